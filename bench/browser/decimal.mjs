// Exact decimals for the plain-JavaScript merge baseline, with the semantics the core's
// `rust_decimal` has for what the merge does: parsing keeps the scale ("1.50" stays 2 places), a
// sum has the larger scale of its terms, printing writes every place of that scale.

const PLAIN = /^(-?)(\d+)(?:\.(\d+))?$/;
const TEN = 10n;

/** An exact decimal: `units / 10^scale`. */
export class Decimal {
  constructor(units, scale) {
    this.units = units;
    this.scale = scale;
  }

  /** Parses a plain decimal string; throws on anything else. */
  static parse(text) {
    const match = typeof text === "string" ? PLAIN.exec(text.trim()) : null;
    if (!match) throw new Error(`not a decimal number: ${JSON.stringify(text)}`);
    const [, sign, whole, fraction = ""] = match;
    const units = BigInt(whole + fraction);
    return new Decimal(sign ? -units : units, fraction.length);
  }

  /** `null` stays `null`; anything else must parse. */
  static parseOptional(text) {
    return text === null || text === undefined ? null : Decimal.parse(text);
  }

  plus(other) {
    const scale = Math.max(this.scale, other.scale);
    const a = this.units * TEN ** BigInt(scale - this.scale);
    const b = other.units * TEN ** BigInt(scale - other.scale);
    return new Decimal(a + b, scale);
  }

  /** Whether |this| > 10^exponent. */
  exceedsPowerOfTen(exponent) {
    const magnitude = this.units < 0n ? -this.units : this.units;
    return magnitude > TEN ** BigInt(exponent + this.scale);
  }

  /** Whether this ≥ the whole number `n`. */
  atLeast(n) {
    return this.units >= BigInt(n) * TEN ** BigInt(this.scale);
  }

  toString() {
    const negative = this.units < 0n;
    let digits = (negative ? -this.units : this.units).toString();
    if (this.scale > 0) {
      digits = digits.padStart(this.scale + 1, "0");
      digits = `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
    }
    return negative ? `-${digits}` : digits;
  }

  toJSON() {
    return this.toString();
  }
}

export const ZERO = new Decimal(0n, 0);

/** The sum of `values`, starting from ZERO (as `Iterator::sum` does). */
export function sum(values) {
  return values.reduce((total, value) => total.plus(value), ZERO);
}
