// The widget's styles, scoped by its shadow root.
export const CSS = `
:host{all:initial}
.root{--accent:#0f766e;position:fixed;bottom:20px;inset-inline-end:20px;z-index:2147483000;font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC",sans-serif;color:#111827}
.launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--accent);color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 14px #0003;float:inline-end}
.panel{width:340px;height:480px;max-height:calc(100vh - 100px);background:#fff;border-radius:14px;box-shadow:0 10px 40px #0003;display:flex;flex-direction:column;overflow:hidden;margin-bottom:12px}
header{background:var(--accent);color:#fff;padding:12px 14px;display:flex;gap:8px;align-items:center}
header div{flex:1;display:grid}header small{opacity:.85}
header select{background:transparent;color:#fff;border:1px solid #fff8;border-radius:6px}
header option{color:#111}
.x{background:none;border:0;color:#fff;font-size:22px;cursor:pointer}
.msgs{flex:1;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f8fafc}
.msg{max-width:80%;padding:8px 11px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}
.mine{align-self:flex-end;background:var(--accent);color:#fff;border-end-end-radius:4px}
.theirs{align-self:flex-start;background:#fff;box-shadow:0 1px 2px #0001;border-end-start-radius:4px}
.pending{opacity:.6}
.msg small{display:block;font-size:11px;opacity:.8}
.msg img{max-width:100%;border-radius:8px;display:block}
.msg a{color:inherit}
.qr{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}
.survey .rating{display:flex;gap:2px;margin-top:6px}.survey .rating button{border:0;background:none;font-size:22px;line-height:1;cursor:pointer;color:#cbd5e1;padding:2px}
.survey .rating button.on{color:#f59e0b}.survey .rating.thumbs button{filter:grayscale(1);opacity:.6}.survey .rating.thumbs button.on{filter:none;opacity:1}
.survey .comment{display:flex;flex-direction:column;gap:4px;margin-top:6px}.survey textarea{font:inherit;border:1px solid #d1d5db;border-radius:6px;padding:4px;resize:vertical}.survey .comment button{align-self:flex-end}
.qr button{border:1px solid var(--accent);color:var(--accent);background:#fff;border-radius:999px;padding:3px 10px;cursor:pointer}
.typing,.note{color:#6b7280;font-size:12px;font-style:italic;padding:0 12px}
.email{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:10px;display:grid;gap:6px}
.email p{margin:0}
input,textarea{font:inherit;border:1px solid #e5e7eb;border-radius:8px;padding:7px 9px}
.compose{display:flex;gap:6px;padding:8px;border-top:1px solid #e5e7eb;align-items:flex-end}
.compose textarea{flex:1;resize:none}
.clip{cursor:pointer;padding:6px}
.send,.email button{background:var(--accent);color:#fff;border:0;border-radius:8px;padding:7px 12px;cursor:pointer}
.send:disabled{opacity:.5}
.msg a{color:inherit;text-decoration:underline;overflow-wrap:anywhere}
.error{color:#b91c1c;font-size:12px;padding:0 12px;margin:4px 0}
.email .error{padding:0}
.launcher{position:relative}
.badge{position:absolute;top:-4px;inset-inline-end:-4px;min-width:20px;height:20px;border-radius:10px;background:#dc2626;color:#fff;font-size:12px;line-height:20px;padding:0 5px}
.bubble{display:block;max-width:260px;margin:0 0 8px auto;background:#fff;color:#111827;border:1px solid #e5e7eb;border-radius:12px;padding:8px 12px;box-shadow:0 4px 14px #0002;text-align:start;cursor:pointer;font:inherit;white-space:pre-wrap;overflow-wrap:anywhere}
`;
