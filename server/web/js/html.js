// The view library in one place: Preact with htm tagged templates (vendored, no build).
// Templates escape every interpolated value: user text is always text, never HTML.
import { h, render, Fragment } from "../vendor/preact.module.js";
import {
  useState,
  useEffect,
  useRef,
  useMemo,
  useCallback,
  useLayoutEffect,
  useId,
} from "../vendor/hooks.module.js";
import htm from "../vendor/htm.module.js";

export const html = htm.bind(h);
export { h, render, Fragment, useState, useEffect, useRef, useMemo, useCallback, useLayoutEffect, useId };
