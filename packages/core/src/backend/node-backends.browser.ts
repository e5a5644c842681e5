/** The browser build's stand-in for `node-backends.ts`, which `select.ts` never loads in a page. */
import type { BackendName, TryContext, TryResult } from './select.js';

export async function tryNodeBackend(name: BackendName, _context: TryContext): Promise<TryResult> {
  return { ok: false, outcome: 'skipped', reason: `${name} needs Node.js` };
}
