// Signing in and out. The password goes to the server once; what comes back is a session cookie
// the page cannot read (HttpOnly) and a CSRF token it sends with every change. Nothing about the
// session is kept in localStorage.
"use strict";
import { api, replace, state } from "./util.js";

// Who is signed in, or null (the session cookie is missing or has expired).
export async function whoAmI() {
  try {
    state.me = await api("/api/v1/auth/me");
  } catch (error) {
    if (error.status !== 401) throw error;
    state.me = null;
  }
  return state.me;
}

export function showWho() {
  const who = document.getElementById("who");
  const out = document.getElementById("sign-out");
  if (state.me) {
    replace(who, state.me.name, state.me.agency ? ` · ${state.me.agency}` : "");
    who.title = (state.me.roles || []).join(", ");
  } else {
    replace(who);
  }
  out.hidden = !state.me;
}

// Show the sign-in form (with why, when a session ended); nothing else answers keys meanwhile.
export function showLogin(message) {
  state.me = null;
  showWho();
  const dialog = document.getElementById("login");
  document.getElementById("login-error").textContent = message || "";
  if (!dialog.hidden) return;
  dialog.hidden = false;
  document.body.classList.add("signed-out");
  const user = document.getElementById("login-user");
  (user.value ? document.getElementById("login-password") : user).focus();
}

export function loginShown() {
  return !document.getElementById("login").hidden;
}

// Wire the form: `signedIn` runs once the server has accepted the password.
export function bindLogin(signedIn) {
  const form = document.getElementById("login-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = document.getElementById("login-password");
    const error = document.getElementById("login-error");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.textContent = "";
    try {
      state.me = await api("/api/v1/auth/login", {
        username: document.getElementById("login-user").value.trim(),
        password: password.value,
      });
      password.value = "";
      document.getElementById("login").hidden = true;
      document.body.classList.remove("signed-out");
      showWho();
      signedIn();
    } catch (failure) {
      error.textContent = failure.status === 429 || failure.status === 401
        ? failure.message : `Sign-in failed: ${failure.message}`;
      password.select();
    } finally {
      button.disabled = false;
    }
  });
}

export async function signOut() {
  try {
    await api("/api/v1/auth/logout", undefined, "POST");
  } finally {
    showLogin("Signed out.");
  }
}
