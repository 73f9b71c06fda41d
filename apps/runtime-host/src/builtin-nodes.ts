import { InvalidOperationError, type ComputeFunction, type JsonObject, type JsonValue, type NodeImplementations } from '@onex/core';

function asObject(input: JsonValue, fn: string): JsonObject {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOperationError(`${fn} expects an object payload`, { hint: `Send a JSON object; see the ${fn} docs in the app README.` });
  }
  return input;
}

/**
 * `order_total`: `{ items: [{ price, quantity }], discount_percent? }` →
 * `{ subtotal, discount, total }`, amounts rounded to cents. The spec's example COMPUTE node.
 */
const orderTotal: ComputeFunction = (input) => {
  const p = asObject(input, 'order_total');
  if (!Array.isArray(p.items)) throw new InvalidOperationError('order_total needs "items": a list of { price, quantity }', { hint: 'Send {"items":[{"price":9.5,"quantity":2}]}' });
  let subtotal = 0;
  p.items.forEach((item, index) => {
    const it = (item ?? {}) as JsonObject;
    if (typeof it.price !== 'number' || typeof it.quantity !== 'number' || it.price < 0 || it.quantity < 0) {
      throw new InvalidOperationError(`order_total: items[${index}] needs non-negative numeric "price" and "quantity"`, { hint: 'Each item is {"price": number, "quantity": number}.' });
    }
    subtotal += it.price * it.quantity;
  });
  const percent = typeof p.discount_percent === 'number' ? Math.min(Math.max(p.discount_percent, 0), 100) : 0;
  const cents = (n: number) => Math.round(n * 100) / 100;
  const discount = cents((subtotal * percent) / 100);
  return { subtotal: cents(subtotal), discount, total: cents(subtotal - discount) };
};

/** `identity`: returns its input; handy for wiring checks and benchmarks. */
const identity: ComputeFunction = (input) => input;

/** The compute functions node contracts can name in `handler_routing` when run by this binary. */
export const BUILTIN_IMPLEMENTATIONS: NodeImplementations = Object.freeze({
  compute: Object.freeze({ order_total: orderTotal, identity }),
});
