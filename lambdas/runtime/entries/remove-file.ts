/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createRemoveFileHandler } from '../../handlers/remove-file';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createRemoveFileHandler(apiDeps()));
