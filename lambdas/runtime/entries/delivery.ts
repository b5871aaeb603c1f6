/** AWS entry: the handler factory over the delivery composition's deps, built on the first invocation. */
import { createDeliveryHandler } from '../../handlers/delivery';
import { deliveryDeps } from '../delivery-aws-deps';
import { lazyHandler } from '../lazy';

export const handler = lazyHandler(() => createDeliveryHandler(deliveryDeps()));
