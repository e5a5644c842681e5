/** @vid/demo (private app): a local page with the runs and on-demand predictions. */
export { type DemoOptions, predictGif, startDemo } from './server.js';
export { configureDemoCommand, registerDemoCommand } from './cli.js';
