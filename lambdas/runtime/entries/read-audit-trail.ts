/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createReadAuditTrailHandler } from '../../handlers/read-audit-trail';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createReadAuditTrailHandler(apiDeps()));
