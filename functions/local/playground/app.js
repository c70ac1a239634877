/* global document, location, localStorage, fetch, FormData, WebSocket, URL, Option, crypto -- this file runs in the browser. */
// The playground's script: plain browser JavaScript, no build step. It uses the public API only:
// GraphQL over HTTP with a Bearer key, presigned-POST uploads, graphql-ws subscriptions (the protocol
// is small enough to speak directly, see subscribe()), and signed download links for results.

const KEY_STORAGE = 'peerstyle.apiKey';
const $ = (id) => document.getElementById(id);

let apiKey = localStorage.getItem(KEY_STORAGE) ?? '';
const jobs = new Map();

/** A GraphQL error as the page shows it: the code from extensions.code, then the message. */
class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) {
    const [first] = body.errors;
    throw new ApiError(first.extensions?.code ?? 'INTERNAL', first.message);
  }
  return body.data;
}

/**
 * One graphql-ws ("graphql-transport-ws") subscription on its own socket: connection_init with the key,
 * wait for connection_ack, subscribe, answer pings, and close once the server completes the stream.
 * Returns a function that ends the subscription.
 */
function subscribe(query, variables, { next, error = showError, complete = () => {} }) {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const id = crypto.randomUUID();
  let done = false;
  const finish = () => {
    done = true;
    if (socket.readyState <= WebSocket.OPEN) socket.close(1000, 'Normal Closure');
  };
  socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey } }));
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === 'connection_ack') {
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    } else if (data.type === 'ping') {
      socket.send(JSON.stringify({ type: 'pong' }));
    } else if (data.type === 'next' && data.id === id) {
      if (data.payload.errors?.length) {
        const [first] = data.payload.errors;
        error(new ApiError(first.extensions?.code ?? 'INTERNAL', first.message));
      } else next(data.payload.data);
    } else if (data.type === 'error' && data.id === id) {
      const [first] = data.payload;
      error(new ApiError(first?.extensions?.code ?? 'BAD_REQUEST', first?.message ?? 'Subscription refused.'));
      finish();
    } else if (data.type === 'complete' && data.id === id) {
      finish();
      complete();
    }
  };
  socket.onclose = (event) => {
    // 4401/4403 are the protocol's "unauthorised"/"forbidden"; the reason carries the server's message.
    if (!done && event.code !== 1000)
      error(
        new ApiError(
          event.code === 4403 || event.code === 4401 ? 'UNAUTHENTICATED' : 'UNAVAILABLE',
          event.reason || `Connection closed (${event.code}).`,
        ),
      );
    done = true;
  };
  return () => {
    if (!done && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id, type: 'complete' }));
    finish();
  };
}

function showError(error) {
  const box = $('error');
  box.textContent = error instanceof ApiError ? `${error.code}: ${error.message}` : `Error: ${error.message ?? error}`;
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function showProgress(job) {
  const percent = Math.round(job.progress * 100);
  $('progress').value = percent;
  $('progress').textContent = `${percent}%`;
  $('progress-text').textContent = `${job.status} · ${job.stage} · ${percent}%`;
}

/** Uploads one file through a presigned POST and returns its upload key. */
async function upload(file) {
  const contentType = file.type || 'application/octet-stream';
  const { createUpload } = await gql(
    `mutation Upload($t: String!, $n: Int!) { createUpload(contentType: $t, byteSize: $n) { url key fields { name value } } }`,
    { t: contentType, n: file.size },
  );
  const form = new FormData();
  for (const { name, value } of createUpload.fields) form.append(name, value);
  form.append('Content-Type', contentType);
  form.append('file', file, file.name);
  const response = await fetch(createUpload.url, { method: 'POST', body: form });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(body.error?.code ?? `HTTP_${response.status}`, body.error?.message ?? 'The upload was refused.');
  }
  return createUpload.key;
}

const JOB_FIELDS = 'id kind status stage progress createdAt error { code message } result { downloads { url } }';

function renderJobs() {
  const rows = [...jobs.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  $('jobs').replaceChildren(
    ...rows.map((job) => {
      const row = document.createElement('tr');
      row.dataset.jobId = job.id;
      const cells = [job.id, job.kind, job.status, job.stage, `${Math.round(job.progress * 100)}%`, job.createdAt];
      for (const text of cells) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      row.children[2].className = 'status';
      return row;
    }),
  );
}

async function loadJobs() {
  const { jobs: page } = await gql(`query Jobs { jobs(first: 20) { items { ${JOB_FIELDS} } } }`);
  jobs.clear();
  for (const job of page.items) jobs.set(job.id, job);
  renderJobs();
}

async function loadStyles() {
  const { styles } = await gql(`query Styles { styles(first: 50) { items { id name } } }`);
  const select = $('style-select');
  select.replaceChildren(new Option('(none)', ''), ...styles.items.map((style) => new Option(style.name, style.id)));
}

let stopMyJobs = () => {};
function connect() {
  stopMyJobs();
  if (!apiKey) return;
  Promise.all([loadJobs(), loadStyles()]).catch(showError);
  stopMyJobs = subscribe(
    `subscription MyJobs { myJobs { type job { ${JOB_FIELDS} } } }`,
    {},
    {
      next: ({ myJobs }) => {
        jobs.set(myJobs.job.id, myJobs.job);
        renderJobs();
      },
    },
  );
}

function preview(input, img) {
  input.addEventListener('change', () => {
    const [file] = input.files;
    if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
    img.hidden = !file;
    if (file) img.src = URL.createObjectURL(file);
  });
}

/** The content preview's longest side, once it has loaded; otherwise the server's default size. */
function contentSize() {
  const img = $('content-preview');
  const side = Math.max(img.naturalWidth, img.naturalHeight);
  return img.complete && side > 0 ? { size: side } : {};
}

async function stylize(event) {
  event.preventDefault();
  clearError();
  const [content] = $('content-file').files;
  const [styleFile] = $('style-file').files;
  const styleId = $('style-select').value;
  if (!apiKey) return showError(new ApiError('UNAUTHENTICATED', 'Enter an API key first.'));
  if (!content) return showError(new ApiError('BAD_REQUEST', 'Choose a content image.'));
  if (!styleFile && !styleId) return showError(new ApiError('BAD_REQUEST', 'Choose a style image or a saved style.'));
  $('stylize').disabled = true;
  $('result').hidden = true;
  showProgress({ status: 'UPLOADING', stage: 'upload', progress: 0 });
  try {
    const contentKey = await upload(content);
    const style = styleFile ? { uploadKey: await upload(styleFile) } : { styleId };
    const { stylize: job } = await gql(
      `mutation Stylize($input: StylizeInput!) { stylize(input: $input) { ${JOB_FIELDS} } }`,
      // The output's longest side is `size`: the content's own keeps the result at the content's size.
      { input: { content: contentKey, styles: [style], options: contentSize() } },
    );
    showProgress(job);
    await new Promise((resolve) => {
      subscribe(
        `subscription Progress($id: ID!) { jobProgress(id: $id) { type job { ${JOB_FIELDS} } } }`,
        { id: job.id },
        {
          next: ({ jobProgress }) => {
            const current = jobProgress.job;
            showProgress(current);
            if (current.status === 'SUCCEEDED') {
              $('result').src = current.result.downloads[0].url;
              $('result').hidden = false;
            } else if (current.error) {
              showError(new ApiError(current.error.code, current.error.message));
            }
          },
          error: (error) => {
            showError(error);
            resolve();
          },
          complete: resolve,
        },
      );
    });
  } catch (error) {
    showError(error);
  } finally {
    $('stylize').disabled = false;
  }
}

$('api-key').value = apiKey;
$('save-key').addEventListener('click', () => {
  apiKey = $('api-key').value.trim();
  localStorage.setItem(KEY_STORAGE, apiKey);
  clearError();
  connect();
});
$('refresh-jobs').addEventListener('click', () => loadJobs().catch(showError));
$('stylize-form').addEventListener('submit', stylize);
preview($('content-file'), $('content-preview'));
preview($('style-file'), $('style-preview'));
connect();
