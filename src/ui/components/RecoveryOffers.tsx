import type { Actions } from '../actions';
import type { ErrorDetail } from '../../protocol/messages';

/** The buttons an error offers: Retry, "Delete cached copy", "Reload with q4" (from its detail). */
export function RecoveryOffers({ actions, detail }: { actions: Actions; detail: ErrorDetail | null }) {
  const offers = detail?.offers ?? [];
  if (offers.length === 0) return null;
  return (
    <div className="row recovery" data-testid="recovery-offers">
      {offers.includes('retry') && (
        <button type="button" onClick={() => void actions.session.retry()}>
          Retry
        </button>
      )}
      {offers.includes('delete-cache') && (
        <button type="button" onClick={() => void actions.cache.removeFailed(detail)}>
          Delete cached copy
        </button>
      )}
      {offers.includes('use-q4') && (
        <button type="button" onClick={() => void actions.session.reloadWithQ4()}>
          Reload with q4
        </button>
      )}
    </div>
  );
}
