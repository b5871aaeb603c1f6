/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createListPartsHandler } from '../../handlers/list-parts';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createListPartsHandler(apiDeps()));
