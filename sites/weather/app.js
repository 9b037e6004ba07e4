// Local weather: reads config.json (next to this page) for the API's URL, then asks
// GET {apiUrl}/weather?city=… or ?lat=…&lon=… and shows the answer. Everything rendered goes
// through textContent: the API echoes user input in its messages.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("search");
  const cityInput = $("city");
  const locate = $("use-location");
  const canLocate = "geolocation" in navigator;
  let configPromise = null;
  let latestRequest = 0;

  function loadConfig() {
    if (!configPromise) {
      configPromise = fetch("config.json", { cache: "no-store" })
        .catch(() => {
          throw new Error("Cannot load config.json, the page's settings.");
        })
        .then(async (response) => {
          if (!response.ok) throw new Error(`Cannot load config.json (HTTP ${response.status}).`);
          const config = await response.json();
          if (typeof config.apiUrl !== "string" || config.apiUrl === "") {
            throw new Error("config.json has no apiUrl.");
          }
          return config;
        })
        .catch((error) => {
          configPromise = null; // try again on the next click
          throw error instanceof SyntaxError ? new Error("config.json is not valid JSON.") : error;
        });
    }
    return configPromise;
  }

  async function fetchWeather(params) {
    const { apiUrl } = await loadConfig();
    // A trailing slash keeps any stage path of apiUrl (…/prod + weather -> …/prod/weather).
    const url = new URL("weather", apiUrl.replace(/\/*$/, "/"));
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    let response;
    try {
      response = await fetch(url);
    } catch {
      throw new Error("The weather service cannot be reached. Try again later.");
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: fall through to the status
    }
    if (!response.ok) {
      const message = body && typeof body.message === "string" ? body.message : "";
      throw new Error(message || `The weather service answered HTTP ${response.status}.`);
    }
    return body;
  }

  function setBusy(busy, status = "") {
    $("get-weather").disabled = busy;
    locate.disabled = busy || !canLocate;
    $("result").setAttribute("aria-busy", String(busy));
    $("status").textContent = status;
  }

  function showError(message) {
    $("report").hidden = true;
    $("error").textContent = message;
    $("error").hidden = false;
  }

  function render(data) {
    const { place, observation: obs } = data;
    $("place").textContent = `${place.city}, ${place.country}`;
    const distance = $("distance");
    distance.hidden = typeof data.distance_km !== "number";
    distance.textContent = distance.hidden ? "" : `Station ${data.distance_km.toFixed(1)} km from you`;
    $("temperature").textContent = `${Number(obs.temperature_c).toFixed(1)} °C`;
    $("condition").textContent = String(obs.condition);
    $("humidity").textContent = `${Math.round(Number(obs.humidity_pct))} %`;
    $("wind").textContent = `${Number(obs.wind_kph).toFixed(1)} km/h`;
    const observed = $("observed");
    const when = new Date(obs.observed_at);
    observed.dateTime = String(obs.observed_at);
    observed.textContent = Number.isNaN(when.getTime())
      ? String(obs.observed_at)
      : when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    $("error").hidden = true;
    $("error").textContent = "";
    $("report").hidden = false;
  }

  async function show(params, status) {
    const request = ++latestRequest;
    setBusy(true, status);
    try {
      const data = await fetchWeather(params);
      if (request === latestRequest) render(data);
    } catch (error) {
      if (request === latestRequest) showError(error.message);
    } finally {
      if (request === latestRequest) setBusy(false);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const city = cityInput.value.trim();
    if (city === "") {
      showError("Enter a city.");
      cityInput.focus();
      return;
    }
    show({ city }, `Looking up ${city}…`);
  });

  if (!canLocate) {
    locate.disabled = true;
    locate.title = "This browser cannot share its location.";
  }
  locate.addEventListener("click", () => {
    setBusy(true, "Finding your location…");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const { latitude, longitude } = position.coords;
        show({ lat: latitude.toFixed(4), lon: longitude.toFixed(4) }, "Looking up the nearest station…");
      },
      (error) => {
        setBusy(false);
        showError(`Your location is not available: ${error.message || "permission denied"}.`);
      },
      { timeout: 10000, maximumAge: 600000 },
    );
  });
})();
