import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { CallResult } from "../../../../shared/contract.js";
import { useClient } from "../../state/queries.js";
import { resultsKeys } from "../../state/resultsQueries.js";
import { ErrorPanel } from "../ErrorPanel.js";

/** The results database cannot be opened: what is wrong, and (unless it is only locked) a fresh start. */
export function BrokenDbBanner({
  status,
  onMoved,
}: {
  status: CallResult<"results.status">;
  onMoved(movedTo: string): void;
}) {
  const client = useClient();
  const queryClient = useQueryClient();
  const moving = useMutation({
    mutationFn: () => client.call("results.moveAside", {}),
    onSuccess: (answer) => {
      onMoved(answer.movedTo);
      void queryClient.invalidateQueries({ queryKey: resultsKeys.all });
    },
  });
  return (
    <div className="results-broken">
      <ErrorPanel
        title="The results database cannot be opened"
        error={status.error ?? { code: "INVALID_FILE", message: status.dbFile }}
      >
        {status.canMoveAside ? (
          <button
            type="button"
            className="primary"
            disabled={moving.isPending}
            onClick={() => moving.mutate()}
          >
            Move aside and start fresh
          </button>
        ) : (
          <button
            type="button"
            onClick={() => void queryClient.invalidateQueries({ queryKey: resultsKeys.status })}
          >
            Try again
          </button>
        )}
      </ErrorPanel>
      {moving.error ? <ErrorPanel title="Moving it aside failed" error={moving.error} compact /> : null}
    </div>
  );
}

/** After a move aside: where the old file went (it is kept). */
export function MovedAsideNotice({ movedTo }: { movedTo: string }) {
  return (
    <p className="banner banner-warn" role="status">
      The broken database was kept as <code>{movedTo}</code>; a fresh one is in use.
    </p>
  );
}
