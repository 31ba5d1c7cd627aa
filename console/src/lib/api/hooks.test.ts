import { QueryClient } from "@tanstack/react-query";
import { applyToPages } from "./hooks";
import type { K8sObject, Page } from "../k8s/types";

const pod = (name: string, phase: string): K8sObject => ({ metadata: { name, namespace: "web" }, status: { phase } });

function client(): QueryClient {
  const made = new QueryClient();
  made.setQueryData(["list", "host", "pods", "web", "", "", 1], { items: [pod("a", "Pending"), pod("b", "Running")], totalItems: 2 } satisfies Page);
  made.setQueryData(["list", "host", "pods", "web", "", "", 2], { items: [pod("c", "Running")], totalItems: 2 } satisfies Page);
  return made;
}

const scope = ["list", "host", "pods", "web", "", ""];

describe("applyToPages", () => {
  it("replaces a changed object in place and needs no re-read", () => {
    const made = client();
    expect(applyToPages(made, scope, "MODIFIED", pod("a", "Running"))).toBe(false);
    const page = made.getQueryData<Page>([...scope, 1])!;
    expect(page.items.map((item) => item.status.phase)).toEqual(["Running", "Running"]);
  });
  it("removes a deleted object and asks for a re-read", () => {
    const made = client();
    expect(applyToPages(made, scope, "DELETED", pod("b", "Running"))).toBe(true);
    expect(made.getQueryData<Page>([...scope, 1])!.items.map((item) => item.metadata.name)).toEqual(["a"]);
  });
  it("asks for a re-read when something new appears", () => {
    expect(applyToPages(client(), scope, "ADDED", pod("d", "Pending"))).toBe(true);
  });
  it("asks for a re-read when an object not on any page changes", () => {
    expect(applyToPages(client(), scope, "MODIFIED", pod("z", "Running"))).toBe(true);
  });
});
