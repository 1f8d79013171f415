"""An independent re-implementation of HRM8K's published answer check, written from GitHub gauss5930/HRM8K
(commit d5a6fd5) src/score.py and src/check.py, function for function, for the tests to compare kobench's
protocol pipeline with (nothing here comes from kobench).

Kept as there: `any([...])` evaluates every check before any is read; `safe_latex_equal` is the module's
second definition, which calls itself until Python's recursion limit and catches the error (so it is
False), with SIGALRM handling left out (it never fires in a fast test); the timeout decorators are left
out. check.py's loop turns an exception into "E" (not right): `check` below does the same.
"""

from __future__ import annotations

import re


def answer_in_last_sentence(input_string, answer):
    last_sentence = str(input_string).strip().split("\n")[-1]
    numbers_in_last_sentence = [float(num) for num in re.findall(r"\d+\.?\d*", last_sentence)]
    if len(numbers_in_last_sentence) > 0:
        return float(answer) == numbers_in_last_sentence[-1]
    return False


def convert_to_int_safe(string_number):
    cleaned = str(string_number).replace(",", "")
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        return float(cleaned)
    return string_number


def parse_boxed_value(text, answer):
    match = re.search(r"\\boxed\{\s*([\d,]+(?:\.\d+)?)\s*\}", str(text))
    if match:
        pred = convert_to_int_safe(match.group(1))
        c1 = float(pred) == answer
        c2 = str(pred) == str(answer)
        return any([c1, c2])
    return False


def safe_latex_equal(a, b, depth=0):
    # The published second definition: it calls itself; the RecursionError is caught inside.
    try:
        result = safe_latex_equal(a, b, depth + 1)
    except RecursionError:
        result = False
    return result


def parse_boxed_content_value(text, answer):
    match = re.search(r"\\boxed\{([a-zA-Z0-9가-힣\=\+\-\*/\^\_\(\)\{\}\[\]\\ ]+)\}", str(text))
    if match:
        return any([str(answer) == str(match.group(1)), safe_latex_equal(str(match.group(1)), str(answer))])
    return False


def mcqa_formatting(question, answer):
    number_list = ["\n1. ", "\n2. ", "\n3. ", "\n4. ", "\n5. "]
    check = {num[1]: question.split(num)[-1].split("\n")[0].strip() for num in number_list if num in question}
    try:
        answer_choice = float(answer)
        answer_content = check[str(answer)]
    except Exception:
        answer_content = answer
        for k, v in check.items():
            if v == answer_content:
                answer_choice = float(k)
    return answer_choice, answer_content  # UnboundLocalError where no choice was found, as published


def parse_mcqa_value(question, text, answer):
    answer_choice, answer_content = mcqa_formatting(question, answer)
    return any(
        [
            answer_in_last_sentence(text, answer_choice),
            parse_boxed_value(text, answer_choice),
            parse_boxed_content_value(text, answer_content),
        ]
    )


def parse_ksm_value(question, text, answer):
    if all(tag in question for tag in ["1.", "2.", "3.", "4."]):
        return parse_mcqa_value(question, text, answer)
    try:
        answer_f = float(answer)
        return any([answer_in_last_sentence(text, answer_f), parse_boxed_value(text, answer_f)])
    except ValueError:
        match = re.search(r"\\boxed\{([a-zA-Z0-9가-힣\=\+\-\*/\^\_\(\)\{\}\[\]\\ ]+)\}", str(text))
        if not match:
            return False
        boxed = match.group(1)
        return any([str(answer) == boxed, safe_latex_equal(boxed, str(answer))])


def check(subset, question, text, answer):
    """check.py result_check for one row: "O", "X" or "E"."""
    try:
        is_correct = False
        if subset in ["GSM8K", "MATH", "OMNI_MATH"]:
            is_correct = any([answer_in_last_sentence(text, answer), parse_boxed_value(text, answer)])
        elif subset == "MMMLU":
            is_correct = parse_mcqa_value(question, text, answer)
        elif subset == "KSM":
            is_correct = parse_ksm_value(question, text, answer)
        return "O" if is_correct else "X"
    except Exception:
        return "E"
