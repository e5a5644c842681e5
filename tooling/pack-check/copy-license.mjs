// `prepack` of every published package: copies the workspace's LICENSE into the package
// directory, so that `npm pack` / `pnpm pack` put it in the tarball (npm always includes a
// LICENSE file at the package root). The copies are ignored by git: the root LICENSE is the one.
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
copyFileSync(join(root, 'LICENSE'), join(process.cwd(), 'LICENSE'));
