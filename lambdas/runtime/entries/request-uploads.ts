/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createRequestUploadsHandler } from '../../handlers/request-uploads';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createRequestUploadsHandler(apiDeps()));
