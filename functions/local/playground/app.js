/* global document, window, location, localStorage, fetch, FormData, WebSocket, URL, Option, crypto -- this file runs in the browser. */
// The playground's script: plain browser JavaScript, no build step. It uses the public API only:
// GraphQL over HTTP with a Bearer key, presigned-POST uploads, graphql-ws subscriptions (the protocol
// is small enough to speak directly, see subscribe()), and signed download links for results.

const KEY_STORAGE = 'peerstyle.apiKey';
const MAX_STYLES = 4;
const $ = (id) => document.getElementById(id);

let apiKey = '';
const jobs = new Map();
/** Saved styles by id, with their signed preview links. */
const savedStyles = new Map();

/** A GraphQL error as the page shows it: the code from extensions.code, then the message. */
class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function gql(query, variables = {}, key = apiKey) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
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

const describe = (error) =>
  error instanceof ApiError ? `${error.code}: ${error.message}` : `Error: ${error.message ?? error}`;

/** Shows an error of the current stylization, and takes down the progress it interrupted. */
function showError(error) {
  $('error').textContent = describe(error);
  $('error').hidden = false;
  $('progress-box').hidden = true;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function showProgress(job) {
  const percent = Math.round(job.progress * 100);
  $('progress-box').hidden = false;
  $('progress').value = percent;
  $('progress').textContent = `${percent}%`;
  $('progress-text').textContent = `${job.status} · ${job.stage} · ${percent}%`;
}

// ---- The key ------------------------------------------------------------------------------------

function keyStatus(text, kind) {
  $('key-status').textContent = text;
  $('key-status').className = kind;
}

/**
 * Checks a key against the API before using it: a wrong key says so here, and is neither kept nor used
 * for the jobs and styles below.
 */
async function useKey(key) {
  if (!key) {
    keyStatus('Paste the API key that npm start printed.', '');
    return false;
  }
  keyStatus('Checking the key…', '');
  let models;
  try {
    ({ models } = await gql('query Check { models { id name version packageVersion builtIn } }', {}, key));
  } catch (error) {
    keyStatus(describe(error), 'bad');
    return false;
  }
  apiKey = key;
  localStorage.setItem(KEY_STORAGE, key);
  const builtIn = models.find((model) => model.builtIn);
  keyStatus(
    `Key accepted${builtIn ? ` · model ${builtIn.name}${builtIn.packageVersion ? ` ${builtIn.packageVersion}` : ''}` : ''}`,
    'ok',
  );
  $('model').replaceChildren(
    ...models.map(
      (model) => new Option(model.builtIn ? `${model.name} (built in)` : `${model.name} v${model.version}`, model.id),
    ),
  );
  connect();
  return true;
}

// ---- Jobs ---------------------------------------------------------------------------------------

const JOB_FIELDS = 'id kind status stage progress createdAt error { code message } result { downloads { url } }';
const COLUMNS = ['Job', 'Kind', 'Status', 'Stage', 'Progress', 'Created'];
/** The progress subscription also asks for the preview, which arrives before the full image. */
const PROGRESS_FIELDS = `${JOB_FIELDS} preview { url width height }`;

function cell(label, ...children) {
  const td = document.createElement('td');
  td.dataset.label = label;
  td.append(...children);
  return td;
}

function renderJobs() {
  const sorted = [...jobs.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  $('jobs-empty').hidden = sorted.length > 0;
  $('jobs-table').hidden = sorted.length === 0;
  const rows = [];
  for (const job of sorted) {
    const row = document.createElement('tr');
    row.dataset.jobId = job.id;
    const id = cell(COLUMNS[0], job.id.slice(0, 8));
    id.className = 'id';
    id.title = job.id;
    const badge = document.createElement('span');
    badge.className = `badge ${job.status}`;
    badge.textContent = job.status;
    const status = cell(COLUMNS[2], badge);
    status.className = 'status';
    const download = job.result?.downloads?.[0]?.url;
    if (download) {
      const link = document.createElement('a');
      link.href = download;
      link.textContent = 'open';
      link.target = '_blank';
      link.rel = 'noopener';
      status.append(link);
    }
    row.append(
      id,
      cell(COLUMNS[1], job.kind),
      status,
      cell(COLUMNS[3], job.stage),
      cell(COLUMNS[4], `${Math.round(job.progress * 100)}%`),
      cell(COLUMNS[5], new Date(job.createdAt).toLocaleString()),
    );
    rows.push(row);
    if (job.error) {
      // A failed (or cancelled) job says why, on a line of its own under its row.
      row.classList.add('failed');
      const reason = document.createElement('tr');
      reason.className = 'job-error-row';
      const text = cell('Error', `${job.error.code}: ${job.error.message}`);
      text.colSpan = COLUMNS.length;
      text.className = 'job-error';
      reason.append(text);
      rows.push(reason);
    }
  }
  $('jobs').replaceChildren(...rows);
}

async function loadJobs() {
  const { jobs: page } = await gql(`query Jobs { jobs(first: 20) { items { ${JOB_FIELDS} } } }`);
  jobs.clear();
  for (const job of page.items) jobs.set(job.id, job);
  renderJobs();
}

async function loadStyles() {
  const { styles } = await gql(`query Styles { styles(first: 50) { items { id name image { url } } } }`);
  savedStyles.clear();
  for (const style of styles.items) savedStyles.set(style.id, style);
  for (const select of document.querySelectorAll('select.saved-style')) fillSavedStyles(select);
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
      error: (error) => keyStatus(describe(error), 'bad'),
    },
  );
}

// ---- Inputs -------------------------------------------------------------------------------------

/** Points `img` at `src` (a blob: or signed URL), or hides it; blob URLs it made are released. */
function showThumb(img, src) {
  if (img.src.startsWith('blob:')) URL.revokeObjectURL(img.src);
  if (src) img.src = src;
  else img.removeAttribute('src');
  img.hidden = !src;
}

function fillSavedStyles(select) {
  const chosen = select.value;
  select.replaceChildren(
    new Option('(none)', ''),
    ...[...savedStyles.values()].map((style) => new Option(style.name, style.id)),
  );
  if (savedStyles.has(chosen)) select.value = chosen;
}

/** Adds one style row: a file or a saved style, its preview and its weight. */
function addStyleRow() {
  const list = $('styles');
  const n = list.children.length + 1;
  const suffix = n === 1 ? '' : ` ${n}`;
  const row = document.createElement('li');
  row.className = 'style-row';

  const box = document.createElement('div');
  box.className = 'thumb-box';
  const thumb = document.createElement('img');
  thumb.className = 'thumb';
  thumb.alt = `Style${suffix} preview`;
  thumb.hidden = true;
  const empty = document.createElement('span');
  empty.className = 'thumb-empty';
  empty.textContent = 'No image';
  box.append(thumb, empty);

  const fields = document.createElement('div');
  fields.className = 'style-fields';
  const fileId = `style-file-${n}`;
  const selectId = `style-select-${n}`;
  const weightId = `style-weight-${n}`;
  const fileLabel = Object.assign(document.createElement('label'), {
    htmlFor: fileId,
    textContent: `Style image${suffix}`,
  });
  const file = Object.assign(document.createElement('input'), {
    id: fileId,
    type: 'file',
    accept: 'image/jpeg,image/png,image/webp',
    className: 'style-file',
  });
  const or = Object.assign(document.createElement('label'), {
    htmlFor: selectId,
    className: 'or',
    textContent: 'or a saved style',
  });
  const select = Object.assign(document.createElement('select'), { id: selectId, className: 'saved-style' });
  fillSavedStyles(select);
  const weightLabel = Object.assign(document.createElement('label'), { htmlFor: weightId });
  const weightValue = Object.assign(document.createElement('output'), { textContent: '1.00' });
  weightLabel.append(`Weight${suffix}`, weightValue);
  const weight = Object.assign(document.createElement('input'), {
    id: weightId,
    type: 'range',
    min: '0.05',
    max: '1',
    step: '0.05',
    value: '1',
    className: 'style-weight',
  });
  weight.addEventListener('input', () => (weightValue.textContent = Number(weight.value).toFixed(2)));
  file.addEventListener('change', () => {
    const [chosen] = file.files;
    if (chosen) select.value = '';
    showThumb(thumb, chosen ? URL.createObjectURL(chosen) : '');
  });
  select.addEventListener('change', () => {
    if (select.value) file.value = '';
    showThumb(thumb, savedStyles.get(select.value)?.image.url ?? '');
  });
  fields.append(fileLabel, file, or, select, weightLabel, weight);
  if (n > 1) {
    const remove = Object.assign(document.createElement('button'), {
      type: 'button',
      className: 'remove-style secondary',
      textContent: 'Remove',
    });
    remove.addEventListener('click', () => {
      showThumb(thumb, '');
      row.remove();
      $('add-style').hidden = false;
    });
    fields.append(remove);
  }
  row.append(box, fields);
  list.append(row);
  $('add-style').hidden = list.children.length >= MAX_STYLES;
}

// ---- Stylizing ----------------------------------------------------------------------------------

/** Uploads one file through a presigned POST (the form's `file` field, after the signed fields). */
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

/** The options the form asks for; anything left at its default is left out, so the server's applies. */
function options() {
  const chosen = { strength: Number($('strength').value), format: $('format').value };
  if ($('preserve-color').checked) chosen.preserveColor = true;
  if ($('structure').value) chosen.structure = $('structure').value;
  if ($('size').value !== '') chosen.size = Number($('size').value);
  return chosen;
}

/**
 * Shows `url` large; with the content's preview it becomes a before/after comparison. `preview` marks
 * the job's early small rendering: it is labelled as such and offers no download until the full image
 * replaces it.
 */
function showImage(url, beforeUrl, { preview = false } = {}) {
  const result = $('result');
  const compare = $('compare');
  result.onload = () => compare.style.setProperty('--aspect', String(result.naturalWidth / result.naturalHeight));
  result.src = url;
  compare.classList.toggle('solo', !beforeUrl);
  compare.classList.toggle('previewing', preview);
  if (beforeUrl) $('before').src = beforeUrl;
  else $('before').removeAttribute('src');
  $('after-tag').textContent = preview ? 'Preview' : 'After';
  $('preview-note').hidden = !preview;
  $('placeholder').hidden = true;
  compare.hidden = false;
}

/** Shows the finished image, replacing a preview, with its Download button. */
function showResult(url, beforeUrl, filename) {
  showImage(url, beforeUrl);
  $('download').href = url;
  $('download').download = filename;
  $('download').hidden = false;
}

let stopProgress = () => {};

async function stylize(event) {
  event.preventDefault();
  clearError();
  const [content] = $('content-file').files;
  const rows = [...document.querySelectorAll('.style-row')].map((row) => ({
    file: row.querySelector('.style-file').files[0],
    styleId: row.querySelector('.saved-style').value,
    weight: Number(row.querySelector('.style-weight').value),
  }));
  const chosen = rows.filter((row) => row.file || row.styleId);
  if (!apiKey) return showError(new ApiError('UNAUTHENTICATED', 'Enter an API key first.'));
  if (!content) return showError(new ApiError('BAD_REQUEST', 'Choose a content image.'));
  if (chosen.length === 0) return showError(new ApiError('BAD_REQUEST', 'Choose a style image or a saved style.'));
  $('stylize').disabled = true;
  $('download').hidden = true;
  // On a phone the result sits below the form: bring it into view to watch the progress.
  if ($('result-heading').getBoundingClientRect().top > window.innerHeight) {
    $('result-heading').scrollIntoView({ behavior: 'smooth' });
  }
  showProgress({ status: 'UPLOADING', stage: 'upload', progress: 0 });
  try {
    const contentKey = await upload(content);
    const styles = [];
    for (const row of chosen) {
      styles.push(
        row.file
          ? { uploadKey: await upload(row.file), weight: row.weight }
          : { styleId: row.styleId, weight: row.weight },
      );
    }
    const modelId = $('model').value;
    const { stylize: job } = await gql(
      `mutation Stylize($input: StylizeInput!) { stylize(input: $input) { ${JOB_FIELDS} } }`,
      { input: { content: contentKey, styles, options: options(), ...(modelId ? { modelId } : {}) } },
    );
    showProgress(job);
    $('cancel').hidden = false;
    $('cancel').onclick = () =>
      gql('mutation Cancel($id: ID!) { cancelJob(id: $id) { id } }', { id: job.id }).catch(showError);
    // Every event signs the preview's link afresh; it is shown once, from the first event that has it.
    let previewShown = false;
    await new Promise((resolve) => {
      stopProgress = subscribe(
        `subscription Progress($id: ID!) { jobProgress(id: $id) { type job { ${PROGRESS_FIELDS} } } }`,
        { id: job.id },
        {
          next: ({ jobProgress }) => {
            const current = jobProgress.job;
            showProgress(current);
            if (current.preview && !previewShown && current.status === 'RUNNING') {
              previewShown = true;
              showImage(current.preview.url, $('content-preview').src, { preview: true });
            }
            if (current.status === 'SUCCEEDED') {
              const format = $('format').value === 'JPEG' ? 'jpg' : $('format').value.toLowerCase();
              showResult(
                current.result.downloads[0].url,
                $('content-preview').src,
                `peerstyle-${job.id.slice(0, 8)}.${format}`,
              );
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
    $('cancel').hidden = true;
  }
}

// ---- Wiring -------------------------------------------------------------------------------------

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  useKey($('api-key').value.trim());
});
$('refresh-jobs').addEventListener('click', () => loadJobs().catch(showError));
$('stylize-form').addEventListener('submit', stylize);
$('add-style').addEventListener('click', addStyleRow);
$('content-file').addEventListener('change', () => {
  const [file] = $('content-file').files;
  showThumb($('content-preview'), file ? URL.createObjectURL(file) : '');
});
$('strength').addEventListener(
  'input',
  () => ($('strength-value').textContent = Number($('strength').value).toFixed(2)),
);
$('split').addEventListener('input', () => $('compare').style.setProperty('--split', `${$('split').value}%`));
window.addEventListener('beforeunload', () => stopProgress());
addStyleRow();
$('api-key').value = localStorage.getItem(KEY_STORAGE) ?? '';
if ($('api-key').value) useKey($('api-key').value);
else keyStatus('Paste the API key that npm start printed.', '');
