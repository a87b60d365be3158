"""The OpenAPI 3.1 description of the read-only API (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations


def _get(summary: str, scope: str, params: list[dict], item: str = "object") -> dict:
    return {
        "get": {
            "summary": summary,
            "description": f"权限范围：`{scope}`",
            "security": [{"bearer": []}],
            "parameters": params,
            "responses": {
                "200": {"description": "成功", "content": {"application/json": {"schema": {"type": item}}}},
                "401": {"description": "令牌无效、已过期或已撤销"},
                "403": {"description": "令牌的权限范围不含此接口"},
                "404": {"description": "对象不存在"},
                "429": {"description": "错误令牌过多，请稍后再试"},
            },
        }
    }


def _q(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


def _p(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "联系师生服务平台 API", "version": "1", "description": "只读接口，见 docs/api.md"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/api/v1/roster": _get(
            "接待日安排",
            "roster",
            [_q("from", "开始日期 YYYY-MM-DD（默认今天）"), _q("to", "结束日期（默认 8 周后）")],
            "array",
        ),
        "/api/v1/bookings": _get(
            "某日的接待日预约", "bookings", [_q("date", "日期 YYYY-MM-DD（默认今天）")], "array"
        ),
        "/api/v1/quota/cadres/{staff_no}": _get(
            "干部的任务完成情况（与 portal quota --json 相同）",
            "quota",
            [
                _p("staff_no", "工号"),
                _q("period", "期间：2026-11、2026-2027-1、2026-2027、2026"),
                _q("on", "截至日期"),
            ],
            "array",
        ),
        "/api/v1/quota/units/{unit}": _get(
            "单位的任务完成情况汇总",
            "quota",
            [_p("unit", "单位名称"), _q("period", "期间"), _q("on", "截至日期")],
        ),
        "/api/v1/cases": _get(
            "未办结的意见建议", "cases", [_q("department", "责任部门（默认全部）")], "array"
        ),
        "/api/v1/kpis": _get(
            "意见建议办理指标：按期响应率、办结率、按期办结率、满意率、回访率及其计数",
            "kpis",
            [
                _q(
                    "by",
                    "统计方式：department（责任部门，默认）、unit（承办单位）、cadre（干部）、month（月份）",
                ),
                _q("period", "期间：2026、2026-2027、2026-2027-1、2026-11（与 from/to 二选一）"),
                _q("from", "反映日期起 YYYY-MM-DD（默认今年 1 月 1 日）"),
                _q("to", "反映日期止 YYYY-MM-DD（默认今天）"),
                _q("department", "只统计该责任部门的意见建议"),
            ],
        ),
    },
}
