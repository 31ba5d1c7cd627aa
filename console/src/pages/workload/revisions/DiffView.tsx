/**
 * A line diff, readable without colour: each line carries a + or − sign, and screen readers
 * hear "added" or "removed" before it. A summary line says how much changes.
 */
import { useTranslation } from "react-i18next";
import type { DiffLine } from "./templateDiff";
import { foldUnchanged, hasChanges } from "./templateDiff";
import "../workload.css";

const SIGN = { added: "+", removed: "−", unchanged: " " } as const;

export function DiffView({ lines, label }: { lines: DiffLine[]; label: string }) {
  const { t } = useTranslation();
  if (!hasChanges(lines)) return <p data-testid="diff-none">{t("workload:diff.none")}</p>;
  const added = lines.filter((line) => line.type === "added").length;
  const removed = lines.filter((line) => line.type === "removed").length;
  return (
    <>
      <p data-testid="diff-summary">{t("workload:diff.summary", { added, removed })}</p>
      <div className="atoll-diff" role="region" aria-label={label} tabIndex={0} data-testid="diff">
        {foldUnchanged(lines).map((row, at) =>
          row.type === "fold" ? (
            <div key={at} className="atoll-diff__fold">
              {t("workload:diff.folded", { count: row.count })}
            </div>
          ) : (
            <div key={at} className={`atoll-diff__line atoll-diff__line--${row.type}`} data-diff={row.type}>
              <span className="atoll-diff__sign" aria-hidden="true">
                {SIGN[row.type]}
              </span>
              {row.type !== "unchanged" && <span className="pf-v6-screen-reader">{t(`workload:diff.${row.type}`)} </span>}
              <span>{row.text}</span>
            </div>
          ),
        )}
      </div>
    </>
  );
}
