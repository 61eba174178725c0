// Files agents attach in the composer: where to upload them and the
// message part each becomes once stored.

export interface StoredAttachment {
  url: string;
  content_type: string;
  filename?: string | null;
  size?: number | null;
}

export type AttachmentPart = { type: 'image' | 'file'; attachment: StoredAttachment };

/** The upload URL for a file under an account path (`/api/v1/accounts/1`). */
export function uploadPath(accountPath: string, filename: string | undefined): string {
  const name = filename?.trim();
  return name ? `${accountPath}/attachments?filename=${encodeURIComponent(name)}` : `${accountPath}/attachments`;
}

/** Pictures go as `image` parts (shown inline), everything else as `file`. */
export function attachmentPart(a: StoredAttachment): AttachmentPart {
  return { type: a.content_type.toLowerCase().startsWith('image/') ? 'image' : 'file', attachment: a };
}

/** The files of a paste or drop, if any (a pasted screenshot has no name). */
export function filesOf(data: DataTransfer | null): File[] {
  if (!data) return [];
  return Array.from(data.files ?? []);
}

/** A short size for people: `812 B`, `14 KB`, `2.3 MB`. */
export function formatSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
