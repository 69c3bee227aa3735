import assert from "node:assert/strict";
import { test } from "node:test";

import { toOperations, toPipelineText, toQuery } from "../src/index.js";

test("step shorthands become the query names of API.md, in the service's order", () => {
  const query = toQuery({
    mask: "rounded:12",
    contrast: -10,
    brightness: 20,
    sharpen: 1.5,
    blur: 2,
    grayscale: true,
    flip: "v",
    rotate: -45,
    enlarge: true,
    gravity: "smart",
    fit: "cover",
    height: 200,
    width: 300,
    crop: [1, 2, 3, 4],
    quality: 80,
    lossless: false,
    background: "00000080",
    strip: false,
    svg: "embed",
  });
  assert.equal(
    query.toString(),
    "crop=1%2C2%2C3%2C4&w=300&h=200&fit=cover&gravity=smart&enlarge=true&rotate=-45&flip=v&grayscale=true" +
      "&blur=2&sharpen=1.5&brightness=20&contrast=-10&mask=rounded%3A12&q=80&lossless=false&bg=00000080&strip=false&svg=embed",
  );
});

test("operations become pipeline text with the JSON keys", () => {
  assert.equal(
    toPipelineText([
      { op: "rotate", degrees: 90 },
      { op: "resize", width: 300, height: 300, fit: "cover" },
      { op: "grayscale" },
      { op: "crop", x: 0, y: 5, width: 10, height: 20 },
      { op: "mask", shape: "rounded", radius: 12 },
      { op: "mask", image_id: "01890a5d-ac96-774b-bcce-b302099a8057" },
    ]),
    "rotate:degrees=90|resize:width=300,height=300,fit=cover|grayscale|crop:x=0,y=5,width=10,height=20" +
      "|mask:shape=rounded,radius=12|mask:image_id=01890a5d-ac96-774b-bcce-b302099a8057",
  );
  assert.equal(toQuery({ operations: [{ op: "flip", axis: "h" }], quality: 50 }).toString(), "ops=flip%3Aaxis%3Dh&q=50");
});

test("step shorthands become JSON operations in the fixed order", () => {
  assert.deepEqual(
    toOperations({ mask: "circle", rotate: 90, width: 100, crop: [0, 0, 50, 50], grayscale: true, blur: 1, quality: 70 }),
    [
      { op: "crop", x: 0, y: 0, width: 50, height: 50 },
      { op: "resize", width: 100 },
      { op: "rotate", degrees: 90 },
      { op: "grayscale" },
      { op: "blur", sigma: 1 },
      { op: "mask", shape: "circle" },
    ],
  );
  assert.deepEqual(toOperations({ mask: "rounded:8" }), [{ op: "mask", shape: "rounded", radius: 8 }]);
  assert.deepEqual(toOperations({ mask: "01890a5d-ac96-774b-bcce-b302099a8057" }), [
    { op: "mask", image_id: "01890a5d-ac96-774b-bcce-b302099a8057" },
  ]);
  assert.equal(toOperations({ quality: 70 }), undefined);
  assert.throws(() => toOperations({ operations: [], width: 3 }), TypeError);
});
