#!/usr/bin/env python3
"""Regenerate core/data/ from registry packages (needs pip and npm, run by hand, output committed).

- passwords.txt: Django 5.2's common-passwords list (PyPI `Django`), in its frequency order, one per line.
  The password policy's `password_too_common` rule and the strength estimator's ranked dictionary both read it.
- english.txt, surnames.txt, female_names.txt, male_names.txt, us_tv_and_film.txt: the head of each
  frequency list of the `zxcvbn` npm package (MIT), in rank order, for the strength estimator.

The build never runs this: a clone builds offline from the committed files.
"""
import gzip, hashlib, json, pathlib, subprocess, sys, tarfile, tempfile, zipfile

DJANGO = "5.2.19"
ZXCVBN = "4.4.2"
# How much of each list to keep: the heads carry most of the guessing power, and the whole bundle
# (code, these lists and Django's list) has to stay small for the browser.
HEADS = {"english_wikipedia": ("english.txt", 3000), "surnames": ("surnames.txt", 700),
         "female_names": ("female_names.txt", 400), "male_names": ("male_names.txt", 400),
         "us_tv_and_film": ("us_tv_and_film.txt", 500)}
OUT = pathlib.Path(__file__).resolve().parent.parent / "core" / "data"


def django_list(tmp):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", f"django=={DJANGO}", "-d", tmp], check=True)
    wheel = next(pathlib.Path(tmp).glob("django-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        raw = gzip.decompress(z.read("django/contrib/auth/common-passwords.txt.gz")).decode()
    # Django builds a set of x.strip(); keep its order (most common first) for the ranked dictionary.
    seen, out = set(), []
    for line in raw.splitlines():
        w = line.strip()
        if w and w not in seen:
            seen.add(w)
            out.append(w)
    return out


def zxcvbn_lists(tmp):
    subprocess.run(["npm", "pack", f"zxcvbn@{ZXCVBN}", "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    with tarfile.open(next(pathlib.Path(tmp).glob("zxcvbn-*.tgz"))) as t:
        t.extractall(tmp, filter="data")
    script = "const f=require(process.argv[1]);console.log(JSON.stringify(f))"
    js = subprocess.run(["node", "-e", script, f"{tmp}/package/lib/frequency_lists.js"], check=True,
                        capture_output=True, text=True).stdout
    return json.loads(js)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        words = django_list(tmp)
        (OUT / "passwords.txt").write_text("\n".join(words) + "\n")
        lists = zxcvbn_lists(tmp)
        for key, (name, n) in HEADS.items():
            (OUT / name).write_text("\n".join(lists[key][:n]) + "\n")
    for f in sorted(OUT.glob("*.txt")):
        print(f.name, len(f.read_text().splitlines()), hashlib.sha256(f.read_bytes()).hexdigest()[:16])


if __name__ == "__main__":
    main()
