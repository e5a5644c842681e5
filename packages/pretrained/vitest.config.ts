import { vidVitestConfig } from '@vid/vitest-config';

export default vidVitestConfig();
