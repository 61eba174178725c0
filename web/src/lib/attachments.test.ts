import { describe, expect, it } from 'vitest';
import { attachmentPart, filesOf, formatSize, uploadPath } from './attachments';

describe('uploadPath', () => {
  it('passes the file name as an encoded query parameter', () => {
    expect(uploadPath('/api/v1/accounts/7', 'box & label.png')).toBe('/api/v1/accounts/7/attachments?filename=box%20%26%20label.png');
    expect(uploadPath('/api/v1/accounts/7', '  ')).toBe('/api/v1/accounts/7/attachments');
    expect(uploadPath('/api/v1/accounts/7', undefined)).toBe('/api/v1/accounts/7/attachments');
  });
});

describe('attachmentPart', () => {
  it('sends pictures as images and everything else as files', () => {
    const png = { url: '/a/1', content_type: 'image/png', filename: 'x.png', size: 3 };
    expect(attachmentPart(png)).toEqual({ type: 'image', attachment: png });
    expect(attachmentPart({ url: '/a/2', content_type: 'image/webp' }).type).toBe('image');
    expect(attachmentPart({ url: '/a/4', content_type: 'audio/ogg' }).type).toBe('file');
    expect(attachmentPart({ url: '/a/3', content_type: 'application/pdf' }).type).toBe('file');
  });
});

describe('filesOf', () => {
  it('lists the files of a paste and nothing without one', () => {
    const f = new File([new Uint8Array([1, 2])], 'shot.png', { type: 'image/png' });
    expect(filesOf({ files: [f] } as unknown as DataTransfer)).toEqual([f]);
    expect(filesOf({ files: [] } as unknown as DataTransfer)).toEqual([]);
    expect(filesOf(null)).toEqual([]);
  });
});

describe('formatSize', () => {
  it('rounds to a readable unit', () => {
    expect(formatSize(812)).toBe('812 B');
    expect(formatSize(14 * 1024 + 100)).toBe('14 KB');
    expect(formatSize(2.34 * 1024 * 1024)).toBe('2.3 MB');
    expect(formatSize(undefined)).toBe('');
  });
});
