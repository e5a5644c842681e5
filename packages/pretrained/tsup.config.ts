import { library } from '@vid/tsup-config';

export default library({ platform: 'neutral' });
