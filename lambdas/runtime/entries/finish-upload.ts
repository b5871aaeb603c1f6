/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createFinishUploadHandler } from '../../handlers/finish-upload';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createFinishUploadHandler(apiDeps()));
