/**
 * COMPUTE node `pricing`: the total of a basket, from its lines and an optional discount
 * code. nodes/pricing.yaml names this module's `orderTotal` export; the host imports the
 * compiled dist/pricing.js and calls it once per envelope.
 *
 * A compute is pure and synchronous: same input, same answer, no I/O, no clock. Money is
 * counted in integer cents so that 3 × 4.20 is 12.60 and not 12.600000000000001.
 */
import { defineCompute } from '@onex/core';
import { z } from 'zod';

/** One basket line: `price` is the unit price in the currency's main unit (12.50). */
const OrderLine = z.object({
  sku: z.string().min(1),
  price: z.number().nonnegative().multipleOf(0.01),
  quantity: z.number().int().positive().max(999),
});

export const PricingInput = z.object({
  items: z.array(OrderLine).min(1).max(100),
  /** Case-insensitive; an unknown code is reported in the answer, not refused. */
  discount_code: z.string().trim().min(1).optional(),
  currency: z.enum(['EUR', 'USD', 'GBP']).default('EUR'),
});
export type PricingInput = z.infer<typeof PricingInput>;

export const PricingOutput = z.object({
  currency: z.enum(['EUR', 'USD', 'GBP']),
  item_count: z.number().int(),
  subtotal: z.number(),
  discount: z.number(),
  shipping: z.number(),
  total: z.number(),
  discount_code: z.object({ code: z.string(), applied: z.boolean(), reason: z.string().optional() }).nullable(),
});
export type PricingOutput = z.infer<typeof PricingOutput>;

/** Orders from this subtotal (after the discount) ship free; below it shipping is flat. */
const FREE_SHIPPING_FROM_CENTS = 50_00;
const SHIPPING_CENTS = 4_90;

interface DiscountRule {
  /** The discount in cents for a subtotal in cents, or why the code does not apply. */
  readonly apply: (subtotalCents: number) => { cents: number } | { reason: string };
}

const DISCOUNT_CODES: ReadonlyMap<string, DiscountRule> = new Map([
  ['SAVE10', { apply: (subtotal) => ({ cents: Math.round(subtotal * 0.1) }) }],
  [
    'TENOFF',
    {
      apply: (subtotal) => (subtotal >= 50_00 ? { cents: 10_00 } : { reason: 'TENOFF needs a subtotal of 50.00 or more' }),
    },
  ],
]);

const toCents = (amount: number): number => Math.round(amount * 100);
const fromCents = (cents: number): number => cents / 100;

export const orderTotal = defineCompute({
  description: 'Totals a basket: subtotal, discount code, shipping',
  input: PricingInput,
  output: PricingOutput,
  compute(input: PricingInput): PricingOutput {
    const subtotal = input.items.reduce((sum, line) => sum + toCents(line.price) * line.quantity, 0);
    const itemCount = input.items.reduce((sum, line) => sum + line.quantity, 0);

    let discount = 0;
    let discountCode: PricingOutput['discount_code'] = null;
    if (input.discount_code !== undefined) {
      const code = input.discount_code.toUpperCase();
      const outcome = DISCOUNT_CODES.get(code)?.apply(subtotal) ?? { reason: `unknown discount code ${code}` };
      if ('cents' in outcome) {
        discount = Math.min(outcome.cents, subtotal);
        discountCode = { code, applied: true };
      } else {
        discountCode = { code, applied: false, reason: outcome.reason };
      }
    }

    const discounted = subtotal - discount;
    const shipping = discounted >= FREE_SHIPPING_FROM_CENTS ? 0 : SHIPPING_CENTS;
    return {
      currency: input.currency,
      item_count: itemCount,
      subtotal: fromCents(subtotal),
      discount: fromCents(discount),
      shipping: fromCents(shipping),
      total: fromCents(discounted + shipping),
      discount_code: discountCode,
    };
  },
});
