/** @vid/demo (private app): the demo web app's server (runs and files only; the page predicts). */
export { type DemoOptions, type RunListing, listRuns, resolveInside, startDemo } from './server.js';
export { configureDemoCommand, registerDemoCommand } from './cli.js';
