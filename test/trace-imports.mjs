// `node --import ./test/trace-imports.mjs …`: writes every module URL the program loads to
// stderr as `loaded URL` (test/cli-layout.test.ts checks what a command does not load).
import { register } from 'node:module';

register('./trace-imports-hooks.mjs', import.meta.url);
