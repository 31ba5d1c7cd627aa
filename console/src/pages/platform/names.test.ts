// The name rules forms check while typing, the server's own.
import { dnsLabelProblem, userNameProblem } from "./names";

describe("dnsLabelProblem", () => {
  it.each([
    ["", "names.required"],
    ["a".repeat(64), "names.tooLong"],
    ["Shop", "names.dnsLabel"],
    ["-shop", "names.dnsLabel"],
    ["shop-", "names.dnsLabel"],
    ["shop.v2", "names.dnsLabel"],
    ["host", "names.reserved"],
    ["shop-2", null],
    ["a".repeat(63), null],
  ])("%s → %s", (name, problem) => {
    expect(dnsLabelProblem(name, ["host"])).toBe(problem);
  });
});

describe("userNameProblem", () => {
  it("accepts dots inside, not at the ends, and no capitals", () => {
    expect(userNameProblem("jane.doe")).toBeNull();
    expect(userNameProblem(".jane")).toBe("names.userName");
    expect(userNameProblem("Jane")).toBe("names.userName");
    expect(userNameProblem("")).toBe("names.required");
  });
});
