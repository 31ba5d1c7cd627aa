/** Who is signed in (`GET /kapis/iam.atoll.io/v1alpha1/me`). */
import { useQuery } from "@tanstack/react-query";
import { api } from "./client";

export interface Me {
  name: string;
  displayName?: string;
  email?: string;
  groups: string[];
  platformRole?: string;
  passwordChangeRequired: boolean;
  provider?: string;
}

export const meKey = ["me"];

export function useMe(enabled = true) {
  return useQuery({
    queryKey: meKey,
    queryFn: () => api.get<Me>("/kapis/iam.atoll.io/v1alpha1/me"),
    staleTime: 60_000,
    enabled,
  });
}
