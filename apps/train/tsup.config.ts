import { app } from '@vid/tsup-config';

export default app();
