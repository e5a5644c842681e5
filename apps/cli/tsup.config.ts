import { app } from '@vid/tsup-config';

export default app({ entry: { main: 'src/main.ts' } });
