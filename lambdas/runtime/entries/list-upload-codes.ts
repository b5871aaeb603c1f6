/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createListUploadCodesHandler } from '../../handlers/list-upload-codes';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createListUploadCodesHandler(apiDeps()));
