// The syntax rules, against the examples Kubernetes' own validation accepts and refuses.
import {
  intOrPercent,
  isCronSchedule,
  isDns1035Label,
  isDnsLabel,
  isDnsSubdomain,
  isEnvName,
  isIntOrPercent,
  isLabelValue,
  isPort,
  isPortName,
  isQualifiedName,
  isZero,
  parseCpu,
  parseMemory,
  parseQuantity,
  wholeNumber,
} from "./rules";

describe("names", () => {
  it.each(["web", "a", "web-1", "1web", "a".repeat(63)])("accepts the DNS label %s", (name) => {
    expect(isDnsLabel(name)).toBe(true);
  });
  it.each(["", "Web", "-web", "web-", "we_b", "web.app", "a".repeat(64), "wéb"])("refuses the DNS label %j", (name) => {
    expect(isDnsLabel(name)).toBe(false);
  });
  it("asks a Service name to start with a letter", () => {
    expect(isDns1035Label("web")).toBe(true);
    expect(isDns1035Label("1web")).toBe(false);
  });
  it("takes dotted subdomains up to 253 characters", () => {
    expect(isDnsSubdomain("registry.example.com")).toBe(true);
    expect(isDnsSubdomain("web-registry")).toBe(true);
    expect(isDnsSubdomain("a..b")).toBe(false);
    expect(isDnsSubdomain("")).toBe(false);
    expect(isDnsSubdomain(`${"a".repeat(63)}.`.repeat(4) + "a")).toBe(false);
  });
});

describe("labels", () => {
  it.each(["app", "app.kubernetes.io/name", "example.com/tier", "A_b.c-d", "a".repeat(63)])("accepts the key %s", (key) => {
    expect(isQualifiedName(key)).toBe(true);
  });
  it.each(["", "-app", "app-", "a/b/c", "Example.com/tier", "/app", "app/", "a".repeat(64), "has space"])("refuses the key %j", (key) => {
    expect(isQualifiedName(key)).toBe(false);
  });
  it.each(["", "web", "v1.2_3-x", "A"])("accepts the value %j", (value) => {
    expect(isLabelValue(value)).toBe(true);
  });
  it.each(["-web", "web.", "a b", "x/y", "a".repeat(64)])("refuses the value %j", (value) => {
    expect(isLabelValue(value)).toBe(false);
  });
});

describe("environment variable names", () => {
  it("accepts letters, digits, '_', '-' and '.', not starting with a digit", () => {
    expect(isEnvName("DATABASE_URL")).toBe(true);
    expect(isEnvName("my.var-1")).toBe(true);
    expect(isEnvName("1VAR")).toBe(false);
    expect(isEnvName("A B")).toBe(false);
    expect(isEnvName("A=B")).toBe(false);
  });
});

describe("ports", () => {
  it("are whole numbers from 1 to 65535", () => {
    expect(isPort("1")).toBe(true);
    expect(isPort("8000")).toBe(true);
    expect(isPort("65535")).toBe(true);
    expect(isPort("0")).toBe(false);
    expect(isPort("65536")).toBe(false);
    expect(isPort("80.5")).toBe(false);
    expect(isPort("-1")).toBe(false);
    expect(isPort("")).toBe(false);
  });
  it("have names of at most 15 characters with a letter and no double dash", () => {
    expect(isPortName("http")).toBe(true);
    expect(isPortName("http-alt2")).toBe(true);
    expect(isPortName("8080")).toBe(false);
    expect(isPortName("http--alt")).toBe(false);
    expect(isPortName("a-very-long-port-name")).toBe(false);
    expect(isPortName("HTTP")).toBe(false);
  });
});

describe("numbers", () => {
  it("reads whole numbers with a minimum", () => {
    expect(wholeNumber("3")).toBe(3);
    expect(wholeNumber(" 0 ")).toBe(0);
    expect(wholeNumber("0", 1)).toBeNull();
    expect(wholeNumber("1.5")).toBeNull();
    expect(wholeNumber("1e3")).toBeNull();
    expect(wholeNumber("")).toBeNull();
  });
  it("reads ints or percentages", () => {
    expect(isIntOrPercent("25%")).toBe(true);
    expect(isIntOrPercent("1")).toBe(true);
    expect(isIntOrPercent("0%")).toBe(true);
    expect(isIntOrPercent("101%")).toBe(false);
    expect(isIntOrPercent("x%")).toBe(false);
    expect(isIntOrPercent("")).toBe(false);
    expect(intOrPercent("25%")).toBe("25%");
    expect(intOrPercent("2")).toBe(2);
    expect(isZero("0")).toBe(true);
    expect(isZero("0%")).toBe(true);
    expect(isZero("10%")).toBe(false);
  });
});

describe("quantities", () => {
  it.each([
    ["100m", 0.1],
    ["0.5", 0.5],
    ["2", 2],
    [".5", 0.5],
    ["128Mi", 128 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1G", 1e9],
    ["1k", 1000],
    ["1e3", 1000],
    ["5E-1", 0.5],
  ])("reads %s", (text, value) => {
    expect(parseQuantity(text)?.value).toBeCloseTo(value);
  });
  it.each(["", "abc", "1 Gi", "1gi", "-1", "1Mb", "1.2.3", "Mi"])("refuses %j", (text) => {
    expect(parseQuantity(text)).toBeNull();
  });
  it("refuses a memory unit for CPU and thousandths of a byte for memory", () => {
    expect(parseCpu("250m")).toBeCloseTo(0.25);
    expect(parseCpu("1Gi")).toBeNull();
    expect(parseMemory("128Mi")).toBe(128 * 2 ** 20);
    expect(parseMemory("128M")).toBe(128e6);
    expect(parseMemory("128m")).toBeNull();
  });
});

describe("cron schedules", () => {
  it.each([
    "* * * * *",
    "*/5 * * * *",
    "0 0 * * 0",
    "0 9-17 * * MON-FRI",
    "15,45 */2 1 JAN,jul ?",
    "0 0 1-15/2 * *",
    "59 23 31 12 6",
    "@daily",
    "@hourly",
    "@every 1h30m",
  ])("accepts %s", (schedule) => {
    expect(isCronSchedule(schedule)).toBe(true);
  });
  it.each([
    "",
    "* * * *",
    "* * * * * *",
    "60 * * * *",
    "* 24 * * *",
    "* * 0 * *",
    "* * * 13 *",
    "* * * * 7",
    "*/0 * * * *",
    "5-1 * * * *",
    "? * * * *",
    "a * * * *",
    "@sometimes",
    "1-2-3 * * * *",
  ])("refuses %j", (schedule) => {
    expect(isCronSchedule(schedule)).toBe(false);
  });
});
