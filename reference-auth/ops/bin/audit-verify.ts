/**
 * Standalone entry: `npx tsx reference-auth/ops/bin/audit-verify.ts FILE`.
 * Exit code 0 when the chain is intact, 1 when it is broken, 2 on usage or read errors.
 */
import { runAuditVerifyCommand } from '../audit-verify.js';

process.exitCode = await runAuditVerifyCommand(process.argv.slice(2));
