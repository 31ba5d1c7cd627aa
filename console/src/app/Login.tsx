/** Log in with a password (Atoll's own users, or an LDAP directory), or an OIDC provider. */
import { useState } from "react";
import { Alert, Button, Form, FormGroup, LoginPage, TextInput } from "@patternfly/react-core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { logIn } from "@/lib/api/session";

interface Provider {
  name: string;
  type: string;
  loginURL?: string;
}

/** Only a path of this console: never send a user elsewhere after logging in. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && next !== "/login" ? next : "/";
}

export function Login() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [params] = useSearchParams();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const providers = useQuery({
    queryKey: ["providers"],
    queryFn: () => api.get<{ items: Provider[] }>("/oauth/providers"),
  });
  const next = safeNext(params.get("next"));

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await logIn(username, password);
      client.clear();
      navigate(next, { replace: true });
    } catch (caught) {
      setError(describe(caught));
    } finally {
      setBusy(false);
    }
  }

  const oidc = (providers.data?.items ?? []).filter((provider) => provider.loginURL);
  return (
    <LoginPage loginTitle={t("login.title")} brandImgSrc="" brandImgAlt="">
      {params.get("expired") && <Alert variant="info" isInline title={t("login.expired")} style={{ marginBottom: 16 }} />}
      <Form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <FormGroup label={t("login.username")} fieldId="username" isRequired>
          <TextInput id="username" name="username" value={username} onChange={(_e, v) => setUsername(v)} autoComplete="username" autoFocus />
        </FormGroup>
        <FormGroup label={t("login.password")} fieldId="password" isRequired>
          <TextInput id="password" name="password" type="password" value={password} onChange={(_e, v) => setPassword(v)} autoComplete="current-password" />
        </FormGroup>
        {error && <Alert variant="danger" isInline title={error} data-testid="login-error" />}
        <Button type="submit" isBlock isLoading={busy} isDisabled={busy || !username || !password} data-testid="login-submit">
          {t("login.submit")}
        </Button>
        {oidc.map((provider) => (
          <Button
            key={provider.name}
            variant="secondary"
            isBlock
            component="a"
            href={`${provider.loginURL}&redirect=${encodeURIComponent(next)}`}
          >
            {t("login.with", { name: provider.name })}
          </Button>
        ))}
      </Form>
    </LoginPage>
  );
}
