/**
 * What `node:fs/promises`, `node:path` and the other Node built-ins become in the browser build
 * of `@vid/core`: importing one rejects with a clear error. Only functions that take a file path
 * import them (lazily), so a page that passes bytes never reaches this module.
 */
import { VidError } from '../errors.js';

throw new VidError(
  'vid: file paths need Node.js; in a browser, pass the bytes instead (for example new Uint8Array(await (await fetch(url)).arrayBuffer()))',
);
