/* An intrusive doubly linked list: the node lives inside the listed struct
 * (OFC_CONTAINER_OF gets the struct back), so linking and unlinking never
 * allocate and a node unlinks itself in O(1). A zeroed ofc_list is empty and
 * a zeroed node is unlinked: structs that hold them need no init call. Not
 * thread-safe: the owner's lock covers the list. */
#ifndef OFC_UTIL_LIST_H
#define OFC_UTIL_LIST_H

#include <stddef.h>

#define OFC_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

typedef struct ofc_list_node {
    struct ofc_list_node *prev, *next;
} ofc_list_node;

typedef struct ofc_list {
    ofc_list_node *first, *last;
    size_t count;
} ofc_list;

static inline void ofc_list_push_back(ofc_list *list, ofc_list_node *node)
{
    node->next = NULL;
    node->prev = list->last;
    if (list->last)
        list->last->next = node;
    else
        list->first = node;
    list->last = node;
    list->count++;
}

static inline void ofc_list_push_front(ofc_list *list, ofc_list_node *node)
{
    node->prev = NULL;
    node->next = list->first;
    if (list->first)
        list->first->prev = node;
    else
        list->last = node;
    list->first = node;
    list->count++;
}

/* node must be in list; it is unlinked (zeroed) afterwards. */
static inline void ofc_list_remove(ofc_list *list, ofc_list_node *node)
{
    if (node->prev)
        node->prev->next = node->next;
    else
        list->first = node->next;
    if (node->next)
        node->next->prev = node->prev;
    else
        list->last = node->prev;
    node->prev = node->next = NULL;
    list->count--;
}

/* The first node, unlinked, or NULL when the list is empty. */
static inline ofc_list_node *ofc_list_pop_front(ofc_list *list)
{
    ofc_list_node *node = list->first;
    if (node) ofc_list_remove(list, node);
    return node;
}

/* 1 when node is in list (a node is in one list at a time, or in none). */
static inline int ofc_list_contains(const ofc_list *list, const ofc_list_node *node)
{
    return node->prev != NULL || list->first == node;
}

#endif
