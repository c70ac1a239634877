/**
 * The transport's small parts on their own: the multipart parser, key extraction and the per-owner
 * token bucket (with an injected clock, so refill is tested without waiting).
 */

import { bearerKey, connectionKey, RateLimiter } from '../../../functions/graphql';
import { multipartBoundary, parseMultipart } from '../../../functions/local/http';
import { detectImageType } from '../../../functions/core/use-cases';
import { fixture } from './harness';

test('parseMultipart reads fields then the file, byte for byte', () => {
  const image = fixture('photo-5.png');
  const body = Buffer.concat([
    Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nuploads/a/b\r\n'),
    Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="__proto__"\r\n\r\npolluted\r\n'),
    Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n',
    ),
    image,
    Buffer.from('\r\n--XyZ--\r\n'),
  ]);
  const form = parseMultipart(body, multipartBoundary('multipart/form-data; boundary=XyZ'));
  expect(form.fields.key).toBe('uploads/a/b');
  expect(form.fields.__proto__).toBe('polluted');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(form.file).toMatchObject({ fieldName: 'file', filename: 'p.png', contentType: 'image/png' });
  expect(form.file?.data.equals(image)).toBe(true);
});

test('parseMultipart refuses a body without boundaries or with an unterminated part', () => {
  expect(() => parseMultipart(Buffer.from('hello'), 'XyZ')).toThrow(/no boundary/);
  expect(() =>
    parseMultipart(Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue'), 'XyZ'),
  ).toThrow(/not terminated/);
  expect(() => multipartBoundary('application/json')).toThrow(/multipart\/form-data/);
});

test('keys come from Bearer headers and connection payloads only', () => {
  expect(bearerKey('Bearer psk_abc')).toBe('psk_abc');
  expect(bearerKey('Basic psk_abc')).toBeNull();
  expect(bearerKey(undefined)).toBeNull();
  expect(connectionKey({ authorization: 'Bearer psk_1' })).toBe('psk_1');
  expect(connectionKey({ apiKey: 'psk_2' })).toBe('psk_2');
  expect(connectionKey(null)).toBeNull();
});

test('the rate limiter allows a burst, refuses with RATE_LIMITED, and refills per owner', () => {
  let now = 0;
  const limiter = new RateLimiter({ perMinute: 3, clock: () => now });
  for (let i = 0; i < 3; i += 1) limiter.take('alice');
  expect(() => limiter.take('alice')).toThrow(
    expect.objectContaining({ code: 'RATE_LIMITED', message: expect.stringMatching(/3 per minute. Retry in 20 s/) }),
  );
  limiter.take('bob');
  now += 20_000;
  limiter.take('alice');
  expect(() => limiter.take('alice')).toThrow(/Too many requests/);
});

test('detectImageType knows the fixtures and refuses text', () => {
  expect(detectImageType(fixture('photo-1.jpg'))).toBe('image/jpeg');
  expect(detectImageType(fixture('photo-5.png'))).toBe('image/png');
  expect(detectImageType(fixture('painting-4.webp'))).toBe('image/webp');
  expect(detectImageType(fixture('corrupt.jpg'))).toBeNull();
});
