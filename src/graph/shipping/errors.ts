/** A function that cannot travel to another thread or machine; the message says why and the fix. */
export class ShippingError extends TypeError {
  override name = 'ShippingError';
  constructor(
    readonly key: string | undefined,
    readonly reason: string,
  ) {
    super(key === undefined ? reason : `task '${key}': ${reason}`);
  }
}
