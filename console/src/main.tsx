import "@patternfly/react-core/dist/styles/base.css";
import "./app/console.css";
import { createRoot } from "react-dom/client";
import "./lib/i18n";
import { App, makeQueryClient, warm } from "./app/App";
import { applyTheme, savedTheme } from "./app/theme";
import { adoptFragment } from "./lib/api/session";
import { registerBuiltins } from "./pages";

applyTheme(savedTheme());
// An OIDC log-in comes back with Atoll's tokens in the fragment: keep them, clear the URL.
if (location.hash && adoptFragment(location.hash)) {
  history.replaceState(null, "", location.pathname + location.search);
}
registerBuiltins();
// The page's own code first (at most a second's wait: a slow chunk shows a spinner instead).
const opened = warm(location.pathname);
void Promise.race([opened, new Promise((settle) => setTimeout(settle, 1000))]).then(() =>
  createRoot(document.getElementById("root")!).render(<App client={makeQueryClient()} />),
);
