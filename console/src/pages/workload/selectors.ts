/**
 * A workload's `spec.selector` as the label-selector string the list API takes, so the
 * console asks only for the pods and replica sets a workload can own (then checks the
 * owner reference: a selector alone may match someone else's objects).
 */

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

function requirement({ key, operator, values = [] }: LabelSelectorRequirement): string {
  switch (operator) {
    case "In":
      return `${key} in (${values.join(",")})`;
    case "NotIn":
      return `${key} notin (${values.join(",")})`;
    case "Exists":
      return key;
    case "DoesNotExist":
      return `!${key}`;
  }
}

/** `app=web,tier in (a,b)`; "" for an empty or missing selector (which matches everything). */
export function selectorString(selector: LabelSelector | undefined): string {
  if (!selector) return "";
  const labels = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  const expressions = (selector.matchExpressions ?? []).map(requirement);
  return [...labels, ...expressions].join(",");
}
