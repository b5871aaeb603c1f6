/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createRevokeUploadCodeHandler } from '../../handlers/revoke-upload-code';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createRevokeUploadCodeHandler(apiDeps()));
