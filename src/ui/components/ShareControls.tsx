/**
 * Sharing: "Share link" (settings plus the vectors in use, in the URL), the preset file for
 * setups too large for a link (download and open), and the banner at the top of the page for a
 * received link: what it sets, what it carries and where the model comes from, before anything
 * downloads — or why it cannot be used.
 */
import { useApp } from '../store';
import type { Actions } from '../actions';
import { saveDownload } from '../actions/vector-files';

function PendingLoad({ actions }: { actions: Actions }) {
  const pending = useApp((s) => s.pendingLoad);
  const setPending = useApp((s) => s.setPendingLoad);
  const traits = useApp((s) => s.traits.filter((t) => t.strength !== 0).length);
  const custom = useApp((s) => Object.keys(s.customTraits).length);
  if (!pending) return null;
  const vectors = pending.vectors ?? 0;
  return (
    <div className="pending" role="region" aria-label="Shared preset" data-testid="pending-load">
      <p>
        This link sets {traits} trait{traits === 1 ? '' : 's'}
        {custom ? ` and ${custom} custom trait${custom === 1 ? '' : 's'}` : ''} and uses the model <code>{pending.model}</code> ({pending.dtype}
        {pending.cutLayers ? `, steering layers ${pending.cutLayers}` : ''}).
        {vectors > 0 && ` It carries ${vectors} trait vector${vectors === 1 ? '' : 's'}: nothing needs extracting.`}
      </p>
      {pending.source && (
        <p data-testid="pending-source">
          Files come from: <strong>{pending.source}</strong>. Nothing has been downloaded yet.
        </p>
      )}
      <div className="row">
        <button type="button" onClick={() => void actions.links.confirmPendingLoad()}>
          Start download
        </button>
        <button type="button" onClick={() => setPending(null)}>
          Not now
        </button>
      </div>
    </div>
  );
}

/** Top of the page: a received link's banner, or why a link or preset file cannot be used. */
export function LinkBanner({ actions }: { actions: Actions }) {
  const error = useApp((s) => s.presetError);
  const dismiss = useApp((s) => s.presetRejected);
  return (
    <div className="link-banner">
      {error && (
        <div className="error" role="alert" data-testid="preset-error">
          {error}{' '}
          <button type="button" onClick={() => dismiss(null)}>
            Dismiss
          </button>
        </div>
      )}
      <PendingLoad actions={actions} />
    </div>
  );
}

export function ShareControls({ actions }: { actions: Actions }) {
  const link = useApp((s) => s.shareLink);
  const note = useApp((s) => s.shareNote);
  const tooLarge = useApp((s) => s.shareTooLarge);
  const saveFile = async () => {
    const d = await actions.links.presetFile();
    if (d) saveDownload(d);
  };
  return (
    <>
      <div className="row">
        <button type="button" onClick={() => void actions.links.share()}>
          Share link
        </button>
        <button type="button" onClick={() => void saveFile()}>
          Download preset file
        </button>
        <label className="import">
          Open preset file
          <input
            type="file"
            accept=".json,application/json"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void f.arrayBuffer().then((b) => actions.links.openFile(new Uint8Array(b), f.name));
            }}
          />
        </label>
      </div>
      {link && (
        <label>
          Link to these settings (copied to the clipboard when allowed)
          <input readOnly value={link} data-testid="share-link" onFocus={(e) => e.target.select()} />
        </label>
      )}
      {link && note && (
        <p className="hint" data-testid="share-note">
          {note}
        </p>
      )}
      {tooLarge && (
        <div className="notice" role="status" data-testid="share-too-large">
          These settings need a {(tooLarge.chars / 1024).toFixed(1)} KB link; links longer than {tooLarge.limit / 1024} KB break in some apps and browsers, so
          none was made. Share them as a preset file instead.{' '}
          <button type="button" onClick={() => void saveFile()}>
            Download preset file
          </button>
        </div>
      )}
    </>
  );
}
