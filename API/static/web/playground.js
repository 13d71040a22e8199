// The web page's script: it speaks the same HTTP API as any client. mp3 streams from /v1/audio/speech into a
// MediaSource (the audio starts with the first sentence); other formats, or browsers without MediaSource, use
// POST /api/tts/ and play the finished file. Errors are shown as the API words them. Where the server keeps no
// record of a stream (TTS_OPENAI_RECORD=0), the page plays and offers what the stream itself delivered.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const form = $("synth"), player = $("player"), statusEl = $("status"), errorEl = $("error");
  const stats = $("stats"), download = $("download"), wordsEl = $("words"), history = $("history");
  const signedIn = history.dataset.signedIn === "1";
  const streamsKept = form.dataset.streamsKept !== "0"; // TTS_OPENAI_RECORD: is a streamed sound kept as a record?
  const STORE = "tts-history";
  const POLL_LIMIT_MS = 10 * 60 * 1000; // a queued job that takes longer is left to the history
  let words = [];
  let objectUrl = null; // the last stream's blob URL, revoked when the next result replaces it

  const csrf = () => (document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) || [])[1]
    || form.querySelector("[name=csrfmiddlewaretoken]").value;
  const headers = () => ({"Content-Type": "application/json", "X-CSRFToken": csrf()});
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const once = (target, name) => new Promise((resolve) => target.addEventListener(name, resolve, {once: true}));

  $("speed").addEventListener("input", (e) => { $("speed-value").textContent = Number(e.target.value).toFixed(1); });

  function showError(message) {
    errorEl.textContent = message;
    errorEl.hidden = false;
    statusEl.textContent = "";
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      return (body.error && body.error.message) || `${response.status} ${response.statusText}`;
    } catch (e) {
      return `${response.status} ${response.statusText}`;
    }
  }

  function options() {
    const voice = $("voice");
    const o = {text: $("text").value, format: $("format").value, speed: Number($("speed").value), voice: voice.value,
               vocoder: voice.selectedOptions[0].dataset.vocoder || undefined};
    for (const name of ["sigma", "denoiser_strength"]) {
      if ($(name)) o[name] = Number($(name).value);
    }
    return o;
  }

  function play() {
    const started = player.play();
    if (started) started.catch(() => {}); // a browser may refuse autoplay: the controls are there
  }

  function loadSaved() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE) || "[]");
      return Array.isArray(saved) ? saved.filter((e) => e && e.uuid && e.audio_url && typeof e.text === "string") : [];
    } catch (e) {
      return []; // storage disabled or garbled: start afresh
    }
  }

  function save(entries) {
    try {
      sessionStorage.setItem(STORE, JSON.stringify(entries.slice(0, 20)));
    } catch (e) { /* storage full or disabled: the history lasts as long as the page */ }
  }

  function newObjectUrl(thing) {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(thing);
    return objectUrl;
  }

  async function record(uuid, {missingOk = false} = {}) {
    const response = await fetch(`/api/tts/${uuid}/`, {credentials: "same-origin"});
    if (missingOk && response.status === 404) return null;
    if (!response.ok) throw new Error(await errorMessage(response));
    return response.json();
  }

  const canStream = () => "MediaSource" in window && MediaSource.isTypeSupported("audio/mpeg");

  async function streamed(o) {
    const body = {model: "tacotron2", input: o.text, voice: o.voice, response_format: "mp3", speed: o.speed,
                  timestamps: true};
    if (o.sigma !== undefined) Object.assign(body, {sigma: o.sigma, denoiser_strength: o.denoiser_strength});
    const response = await fetch("/v1/audio/speech", {method: "POST", headers: headers(), credentials: "same-origin",
                                                      body: JSON.stringify(body)});
    if (!response.ok) throw new Error(await errorMessage(response));
    const uuid = response.headers.get("X-TTS-Sound");
    const started = performance.now();
    const source = new MediaSource();
    player.src = newObjectUrl(source);
    await once(source, "sourceopen");
    const buffer = source.addSourceBuffer("audio/mpeg");
    const reader = response.body.getReader();
    const pieces = [];
    let first = true;
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      pieces.push(value);
      if (buffer.updating) await once(buffer, "updateend");
      buffer.appendBuffer(value);
      if (first) {
        first = false;
        statusEl.textContent = "Playing while the rest is made…";
        play();
      }
    }
    if (buffer.updating) await once(buffer, "updateend");
    const elapsed = (performance.now() - started) / 1000;
    source.endOfStream();
    const rec = uuid && streamsKept ? await record(uuid, {missingOk: true}) : null;
    if (rec) return rec;
    // not kept on the server: what the stream gave is all there is (no word timings, no history entry)
    const blob = new Blob(pieces, {type: "audio/mpeg"});
    const duration = Number.isFinite(source.duration) ? source.duration : player.duration;
    return {uuid: null, duration: duration || 0, inference_time: elapsed, audio_url: URL.createObjectURL(blob),
            format: "mp3", words: [], local: true};
  }

  async function whole(o) {
    const body = {text: o.text, format: o.format, speed: o.speed, timestamps: true};
    if (o.vocoder) body.vocoder = o.vocoder;
    if (o.sigma !== undefined) Object.assign(body, {sigma: o.sigma, denoiser_strength: o.denoiser_strength});
    const response = await fetch("/api/tts/", {method: "POST", headers: headers(), credentials: "same-origin",
                                               body: JSON.stringify(body)});
    if (!response.ok) throw new Error(await errorMessage(response));
    let rec = await response.json();
    const deadline = Date.now() + POLL_LIMIT_MS;
    for (let wait = 250; rec.status === "queued" || rec.status === "running"; wait = Math.min(wait * 1.5, 2000)) {
      if (Date.now() > deadline) throw new Error("Still waiting for a worker; the result will appear in the history.");
      await sleep(wait);
      rec = await record(rec.uuid);
    }
    if (rec.status !== "done") throw new Error(rec.error ? rec.error.message : "the synthesis failed");
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
    player.src = rec.audio_url;
    play();
    return rec;
  }

  function show(rec) {
    const rtf = rec.inference_time > 0 ? rec.duration / rec.inference_time : 0;
    stats.textContent = `${rec.duration.toFixed(2)} s of audio in ${rec.inference_time.toFixed(2)} s ` +
      `(${rtf.toFixed(1)}× real time)`;
    if (download.dataset.blob) URL.revokeObjectURL(download.dataset.blob);
    download.dataset.blob = rec.local ? rec.audio_url : "";
    download.href = rec.audio_url;
    download.setAttribute("download", `${rec.uuid || "speech"}.${rec.format}`);
    download.hidden = false;
    words = rec.words || [];
    wordsEl.replaceChildren(...words.map((w) => {
      const span = document.createElement("span");
      span.textContent = `${w.word} `;
      return span;
    }));
    if (!rec.local) addToHistory({uuid: rec.uuid, text: rec.text_content, audio_url: rec.audio_url});
  }

  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    const spans = wordsEl.children;
    words.forEach((w, i) => spans[i] && spans[i].classList.toggle("current", w.start <= t && t < w.end));
  });

  function item({uuid, text, audio_url}) {
    const li = document.createElement("li");
    li.dataset.uuid = uuid;
    const span = document.createElement("span");
    span.className = "text";
    span.textContent = text.length > 80 ? `${text.slice(0, 79)}…` : text;
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = audio_url;
    li.append(span, audio);
    if (signedIn) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "delete";
      button.dataset.uuid = uuid;
      button.textContent = "Delete";
      li.append(button);
    }
    return li;
  }

  function addToHistory(entry) {
    const empty = history.querySelector(".empty");
    if (empty) empty.remove();
    history.prepend(item(entry));
    if (!signedIn) save([entry, ...loadSaved()]);
  }

  if (!signedIn) {
    const saved = loadSaved();
    if (saved.length) history.replaceChildren(...saved.map(item));
  }

  history.addEventListener("click", async (event) => {
    const button = event.target.closest("button.delete");
    if (!button) return;
    errorEl.hidden = true;
    button.disabled = true;
    try {
      const response = await fetch(`/api/tts/${button.dataset.uuid}/`, {method: "DELETE", headers: headers(),
                                                                        credentials: "same-origin"});
      if (response.status === 204 || response.status === 404) button.closest("li").remove(); // 404: already gone
      else showError(await errorMessage(response));
    } catch (err) {
      showError(`Could not delete: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorEl.hidden = true;
    const o = options();
    $("speak").disabled = true;
    statusEl.textContent = "Synthesizing…";
    try {
      const rec = o.format === "mp3" && canStream() ? await streamed(o) : await whole(o);
      show(rec);
      statusEl.textContent = rec.local ? "Done (not kept on the server)." : "Done.";
    } catch (err) {
      showError(err.message);
    } finally {
      $("speak").disabled = false;
    }
  });
})();
