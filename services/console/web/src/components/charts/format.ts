// Numbers in the user's locale, formatted once per pattern (Intl formatters are costly to build).
import { formatDuration } from "../../lib/time";

const cache = new Map<string, Intl.NumberFormat>();

function formatter(locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale ?? ""}|${JSON.stringify(options)}`;
  let found = cache.get(key);
  if (!found) {
    found = new Intl.NumberFormat(locale, options);
    cache.set(key, found);
  }
  return found;
}

/** "1,234" (up to `digits` decimals); "–" for a missing value. */
export function formatNumber(value: number | null | undefined, digits = 0, locale?: string): string {
  if (value == null || !Number.isFinite(value)) return "–";
  return formatter(locale, { maximumFractionDigits: digits }).format(value);
}

/** "1.2K", "3.4M": for axis ticks, where space is short. */
export function formatCompact(value: number, locale?: string): string {
  if (!Number.isFinite(value)) return "–";
  return formatter(locale, { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

/** A ratio in [0, 1] as a percentage: 0.625 -> "62.5%" (one decimal by default). */
export function formatPercent(ratio: number | null | undefined, digits = 1, locale?: string): string {
  if (ratio == null || !Number.isFinite(ratio)) return "–";
  return formatter(locale, { style: "percent", maximumFractionDigits: digits }).format(ratio);
}

/** A signed value: "+0.25", "−0.10" (net sentiment and trends). */
export function formatSigned(value: number | null | undefined, digits = 2, locale?: string): string {
  if (value == null || !Number.isFinite(value)) return "–";
  return formatter(locale, {
    signDisplay: "exceptZero",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** A duration given in seconds, as a person reads it: "4 min 05 s"; "–" when missing. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  return formatDuration(seconds * 1000);
}

/** Money in minor units (kopecks, cents) with its ISO currency: 123456, "RUB" -> "RUB 1,234.56". */
export function formatMoneyMinor(minor: number | null | undefined, currency: string | null, locale?: string): string {
  if (minor == null || !Number.isFinite(minor)) return "–";
  if (!currency) return formatNumber(minor / 100, 2, locale);
  try {
    const money = formatter(locale, { style: "currency", currency });
    // Minor units per major unit follow the currency: 100 for RUB and USD, 1 for JPY.
    const digits = money.resolvedOptions().maximumFractionDigits ?? 2;
    return money.format(minor / 10 ** digits);
  } catch {
    return `${currency} ${formatNumber(minor / 100, 2, locale)}`;
  }
}

/** A duration for an axis tick, in seconds: "45s", "12m", "3h", "2d" (one decimal below 10). */
export function formatSecondsShort(seconds: number, locale?: string): string {
  if (!Number.isFinite(seconds)) return "–";
  const abs = Math.abs(seconds);
  const [value, unit] = abs < 60 ? [seconds, "s"] : abs < 3600 ? [seconds / 60, "m"] : abs < 86_400 ? [seconds / 3600, "h"] : [seconds / 86_400, "d"];
  return `${formatNumber(value, Math.abs(value) < 10 ? 1 : 0, locale)}${unit}`;
}
