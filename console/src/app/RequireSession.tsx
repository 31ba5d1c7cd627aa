/**
 * Signed-in pages only: without a session, to the login page and back here afterwards. A
 * session that ends while the user works (a token refused) does the same, saying why. A
 * generated password must be changed before anything else.
 */
import { useEffect, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Navigate, useLocation, useNavigate } from "react-router-dom";
import { currentTokens, onExpired } from "@/lib/api/session";
import { useMe } from "@/lib/api/me";
import { PasswordDialog } from "./PasswordDialog";

function here(location: { pathname: string; search: string }): string {
  return encodeURIComponent(location.pathname + location.search);
}

export function RequireSession({ children }: { children: ReactNode }) {
  const location = useLocation();
  const navigate = useNavigate();
  const client = useQueryClient();
  useEffect(
    () =>
      onExpired(() => {
        client.clear();
        if (window.location.pathname !== "/login") {
          navigate(`/login?expired=1&next=${here(window.location)}`, { replace: true });
        }
      }),
    [client, navigate],
  );
  const signedIn = currentTokens() !== null;
  const me = useMe(signedIn);
  if (!signedIn) return <Navigate to={`/login?next=${here(location)}`} replace />;
  return (
    <>
      {children}
      {me.data?.passwordChangeRequired && <PasswordDialog user={me.data.name} required onClose={() => undefined} />}
    </>
  );
}
