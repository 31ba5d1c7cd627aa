/**
 * The syntax rules Kubernetes applies to what the wizard's fields hold (names, label keys and
 * values, resource quantities, ports, cron schedules), written once as plain predicates so
 * the form can check a field as it is typed and say what is wrong before the server does.
 * They follow the API server's own validation (k8s.io/apimachinery/pkg/util/validation and
 * robfig/cron's standard parser, which the CronJob controller uses).
 */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label: lowercase letters, digits and '-', starting and ending alphanumeric. */
export function isDnsLabel(text: string): boolean {
  return text.length <= 63 && DNS_LABEL.test(text);
}

/** A DNS-1035 label (a Service's name): a DNS-1123 label that starts with a letter. */
export function isDns1035Label(text: string): boolean {
  return text.length <= 63 && DNS_1035_LABEL.test(text);
}

/** A DNS-1123 subdomain (a Secret's name): dot-separated labels, at most 253 characters. */
export function isDnsSubdomain(text: string): boolean {
  return text.length > 0 && text.length <= 253 && text.split(".").every((part) => DNS_LABEL.test(part));
}

/** A label or annotation key: `name` or `prefix/name`, the prefix a DNS subdomain. */
export function isQualifiedName(text: string): boolean {
  const parts = text.split("/");
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  if (parts.length === 2 && !isDnsSubdomain(parts[0])) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

export function isLabelValue(text: string): boolean {
  return text.length <= 63 && LABEL_VALUE.test(text);
}

export function isEnvName(text: string): boolean {
  return ENV_NAME.test(text);
}

/** A named port (IANA_SVC_NAME): at most 15 characters, a letter among them, no `--`. */
export function isPortName(text: string): boolean {
  return text.length <= 15 && PORT_NAME.test(text) && /[a-z]/.test(text) && !text.includes("--");
}

/** A whole number written in decimal digits, at least `min`; `null` otherwise. */
export function wholeNumber(text: string, min = 0): number | null {
  if (!/^\d+$/.test(text.trim())) return null;
  const value = Number(text.trim());
  return Number.isSafeInteger(value) && value >= min ? value : null;
}

export function isPort(text: string): boolean {
  const value = wholeNumber(text, 1);
  return value !== null && value <= 65535;
}

/** An int-or-string such as maxSurge: a whole number or a percentage up to 100%. */
export function isIntOrPercent(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed.endsWith("%")) {
    const value = wholeNumber(trimmed.slice(0, -1));
    return value !== null && value <= 100;
  }
  return wholeNumber(trimmed) !== null;
}

/** Whether an int-or-string amounts to zero (`0` or `0%`). */
export function isZero(text: string): boolean {
  return /^0+%?$/.test(text.trim());
}

/** An int-or-string as the API wants it: a number, or the percentage as a string. */
export function intOrPercent(text: string): number | string {
  const trimmed = text.trim();
  return trimmed.endsWith("%") ? trimmed : Number(trimmed);
}

const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const QUANTITY = /^(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

export interface Quantity {
  value: number;
  suffix: string;
}

/** A resource quantity (`100m`, `0.5`, `128Mi`, `1e3`), its value in base units; `null` if it is not one. */
export function parseQuantity(text: string): Quantity | null {
  const found = QUANTITY.exec(text.trim());
  if (!found) return null;
  const [, number, suffix = ""] = found;
  const scale = BINARY[suffix] ?? DECIMAL[suffix] ?? 10 ** Number(suffix.slice(1));
  return { value: Number(number) * scale, suffix };
}

/** CPU: cores or millicores; a binary suffix (`Mi`) is a memory unit typed in the wrong field. */
export function parseCpu(text: string): number | null {
  const found = parseQuantity(text);
  return found && !(found.suffix in BINARY) ? found.value : null;
}

/** Memory: bytes; `m` (thousandths of a byte) is nearly always a mistyped `M` or `Mi`. */
export function parseMemory(text: string): number | null {
  const found = parseQuantity(text);
  return found && found.suffix !== "m" && found.suffix !== "u" && found.suffix !== "n" ? found.value : null;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface CronField {
  min: number;
  max: number;
  names?: string[];
  /** Whether `?` may stand for `*` (day of month and day of week). */
  question?: boolean;
}

const CRON_FIELDS: CronField[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31, question: true },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS, question: true },
];

const DESCRIPTORS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
const EVERY = /^@every\s+(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function cronValue(text: string, field: CronField): number | null {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + field.min;
  const value = wholeNumber(text);
  return value !== null && value >= field.min && value <= field.max ? value : null;
}

function isCronItem(item: string, field: CronField): boolean {
  const [range, step, ...rest] = item.split("/");
  if (rest.length || (step !== undefined && (wholeNumber(step, 1) === null))) return false;
  if (range === "*" || (field.question && range === "?")) return true;
  const [low, high, ...more] = range.split("-");
  if (more.length) return false;
  const from = cronValue(low, field);
  if (from === null) return false;
  if (high === undefined) return true;
  const to = cronValue(high, field);
  return to !== null && from <= to;
}

/** A CronJob schedule: five fields (minute hour day-of-month month day-of-week), `@daily` and its kin, or `@every 1h`. */
export function isCronSchedule(text: string): boolean {
  const trimmed = text.trim();
  if (DESCRIPTORS.includes(trimmed) || EVERY.test(trimmed)) return true;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) return false;
  return fields.every((value, at) => value.split(",").every((item) => isCronItem(item, CRON_FIELDS[at])));
}
