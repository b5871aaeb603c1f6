/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createSweeperHandler } from '../../handlers/sweeper';
import { lazyHandler } from '../lazy';
import { sweeperDeps } from '../wiring';

export const handler = lazyHandler(() => createSweeperHandler(sweeperDeps()));
