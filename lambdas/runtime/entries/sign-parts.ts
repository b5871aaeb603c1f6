/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createSignPartsHandler } from '../../handlers/sign-parts';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createSignPartsHandler(apiDeps()));
