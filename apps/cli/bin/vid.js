#!/usr/bin/env node
// The `vid` command. Runs the built CLI (apps/cli/dist); `pnpm vid …` from the repository root
// builds it first.
import '../dist/main.js';
