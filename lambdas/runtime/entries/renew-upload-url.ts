/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createRenewUploadUrlHandler } from '../../handlers/renew-upload-url';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createRenewUploadUrlHandler(apiDeps()));
